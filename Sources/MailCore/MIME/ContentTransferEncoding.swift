/// RFC 2045 §6 content transfer encodings, as Tern writes them: `7bit` when the text allows,
/// quoted-printable for text that does not, base64 for everything else. Encoders only; every
/// output line ends in CRLF and is at most 76 characters (§6.7 rule 5, §6.8).
public enum ContentTransferEncoding: String, Sendable, Hashable {
    case sevenBit = "7bit"
    case quotedPrintable = "quoted-printable"
    case base64

    /// The encoding for a text part: 7bit when every byte is ASCII (no NUL, no bare CR) and no
    /// line is longer than 998 octets (RFC 5322 §2.1.1), else quoted-printable.
    public static func forText(_ text: [UInt8]) -> ContentTransferEncoding {
        var lineLength = 0
        var previous: UInt8 = 0
        for byte in text {
            if byte >= 0x80 || byte == 0 || (previous == 0x0D && byte != 0x0A) { return .quotedPrintable }
            if byte == 0x0A {
                lineLength = 0
            } else if byte != 0x0D {
                lineLength += 1
                if lineLength > 998 { return .quotedPrintable }
            }
            previous = byte
        }
        return previous == 0x0D ? .quotedPrintable : .sevenBit
    }

    /// `text` with every line break (CRLF, bare LF, bare CR) as CRLF.
    public static func canonicalLineBreaks(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + text.count / 40)
        var i = 0
        while i < text.count {
            let byte = text[i]
            if byte == 0x0D {
                out += [0x0D, 0x0A]
                i += (i + 1 < text.count && text[i + 1] == 0x0A) ? 2 : 1
            } else if byte == 0x0A {
                out += [0x0D, 0x0A]
                i += 1
            } else {
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    /// Encodes `body` (text with CRLF line breaks for 7bit and quoted-printable).
    public func encode(_ body: [UInt8]) -> [UInt8] {
        switch self {
        case .sevenBit:
            var out = body
            if !out.isEmpty && !(out.count >= 2 && out[out.count - 2] == 0x0D && out[out.count - 1] == 0x0A) { out += [0x0D, 0x0A] }
            return out
        case .quotedPrintable:
            return Self.quotedPrintable(body)
        case .base64:
            return Self.base64Lines(body)
        }
    }

    static let hex = Array("0123456789ABCDEF".utf8)

    /// RFC 2045 §6.7: hard line breaks stay CRLF; `=`, controls, bytes ≥ 0x80 and white space
    /// before a line break become `=XX`; lines are cut with soft breaks (`=` CRLF) at 76.
    static func quotedPrintable(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + text.count / 8)
        var lineLength = 0
        func put(_ token: [UInt8]) {
            // A soft break when the token would pass 75 characters (the 76th is the "=").
            if lineLength + token.count > 75 {
                out += [UInt8(ascii: "="), 0x0D, 0x0A]
                lineLength = 0
            }
            out += token
            lineLength += token.count
        }
        var i = 0
        while i < text.count {
            let byte = text[i]
            if byte == 0x0D && i + 1 < text.count && text[i + 1] == 0x0A {
                out += [0x0D, 0x0A]
                lineLength = 0
                i += 2
                continue
            }
            let atLineEnd = i + 1 == text.count || (text[i + 1] == 0x0D && i + 2 < text.count && text[i + 2] == 0x0A)
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 0x20 || byte == 0x09) && !atLineEnd)
            put(literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            i += 1
        }
        if !(out.count >= 2 && out[out.count - 2] == 0x0D && out[out.count - 1] == 0x0A) { out += [0x0D, 0x0A] }
        return out
    }

    /// Base64 in lines of 76 characters, each ending in CRLF.
    static func base64Lines(_ bytes: [UInt8]) -> [UInt8] {
        let encoded = Array(Base64Text.encode(bytes).utf8)
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + encoded.count / 38 + 2)
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            out += encoded[start..<end]
            out += [0x0D, 0x0A]
            start = end
        }
        return out
    }
}
