/// Header text that may hold any Unicode, written as RFC 5322 allows: as it is when it is
/// printable ASCII, else as RFC 2047 encoded-words (`=?UTF-8?B?…?=`), each at most 75
/// characters and holding whole characters (§5 rule 3), separated by folding white space.
public enum EncodedWords {
    /// Bytes of UTF-8 per encoded-word: 39 bytes are 52 base64 characters, plus the 12 of
    /// `=?UTF-8?B?` and `?=` is 64, under the 75 of RFC 2047 §2, and short enough that
    /// `Subject: ` or ` filename="` and one word stay within 78 characters on a line.
    static let bytesPerWord = 39

    /// True when `text` can go into a header as it is: printable ASCII and spaces, no line break.
    public static func isPlain(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !text.contains("=?")
    }

    /// `text` as unstructured header text (a Subject): as it is when plain, else encoded-words
    /// joined by CRLF SP so the field folds between them.
    public static func unstructured(_ text: String) -> String {
        if isPlain(text) { return text }
        return words(text).joined(separator: "\r\n ")
    }

    /// The encoded-words for `text`, split on character boundaries.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > bytesPerWord, !chunk.isEmpty {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words
    }

    static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?\(Base64Text.encode(bytes))?=" }

    /// A display name for an address field (RFC 5322 §3.4): an atom run as it is, a quoted string
    /// when it has specials, encoded-words when it is not ASCII (never inside quotes, RFC 2047 §5).
    public static func displayName(_ name: String) -> String {
        guard isPlain(name) else { return words(name).joined(separator: " ") }
        let atext = "!#$%&'*+-/=?^_`{|}~ "
        if name.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || atext.unicodeScalars.contains($0) }),
            !name.hasPrefix(" "), !name.hasSuffix(" ")
        {
            return name
        }
        return quotedString(name)
    }

    /// An RFC 5322 §3.2.4 quoted string: `"` and `\` escaped with a backslash.
    public static func quotedString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted += "\\" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}

extension EncodedWords {
    /// Decodes RFC 2047 encoded-words in `text` (B and Q; UTF-8, US-ASCII and ISO-8859-1; a
    /// word in another charset stays as it is). White space between two adjacent encoded-words
    /// is dropped (§6.2). For matching, not for display: invalid UTF-8 becomes U+FFFD.
    public static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        var pendingSpace: [UInt8] = []
        var lastWasEncoded = false
        while i < bytes.count {
            if bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D || bytes[i] == 0x0A {
                pendingSpace.append(bytes[i])
                i += 1
                continue
            }
            if let (decoded, end) = encodedWord(bytes, at: i) {
                if !lastWasEncoded { out += pendingSpace }
                pendingSpace = []
                out += decoded
                lastWasEncoded = true
                i = end
                continue
            }
            out += pendingSpace
            pendingSpace = []
            lastWasEncoded = false
            out.append(bytes[i])
            i += 1
        }
        out += pendingSpace
        return String(decoding: out, as: UTF8.self)
    }

    /// `=?charset?enc?text?=` at `start`: its decoded UTF-8 and where it ends.
    static func encodedWord(_ bytes: [UInt8], at start: Int) -> ([UInt8], Int)? {
        guard start + 8 <= bytes.count, bytes[start] == UInt8(ascii: "="), bytes[start + 1] == UInt8(ascii: "?") else { return nil }
        var fields: [Range<Int>] = []
        var fieldStart = start + 2
        var i = fieldStart
        while i < bytes.count, i - start < 76 * 4 {
            let byte = bytes[i]
            if byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { return nil }
            if byte == UInt8(ascii: "?") {
                if fields.count == 2 {
                    guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "=") else { return nil }
                    fields.append(fieldStart..<i)
                    break
                }
                fields.append(fieldStart..<i)
                fieldStart = i + 1
            }
            i += 1
        }
        guard fields.count == 3 else { return nil }
        var charset = String(decoding: bytes[fields[0]], as: UTF8.self).lowercased()
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 §5 language
        let encoding = String(decoding: bytes[fields[1]], as: UTF8.self).lowercased()
        let payload = bytes[fields[2]]
        let raw: [UInt8]
        switch encoding {
        case "b": raw = TransferDecoding.base64(payload)
        case "q": raw = TransferDecoding.quotedPrintable(payload.map { $0 == UInt8(ascii: "_") ? 0x20 : $0 })
        default: return nil
        }
        let end = fields[2].upperBound + 2
        switch charset {
        case "utf-8", "utf8", "us-ascii": return (raw, end)
        case "iso-8859-1", "latin1", "iso8859-1", "windows-1252":
            return (Array(String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) })).utf8), end)
        default: return nil
        }
    }
}
