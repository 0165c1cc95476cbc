/// Mailbox names as IMAP clients without UTF8=ACCEPT send and expect them: modified UTF-7
/// (RFC 3501 §5.1.3, kept by RFC 9051 §5.1 for IMAP4rev1 clients). Printable ASCII stands for
/// itself, except "&", written "&-"; any other run of characters is "&", the modified base64
/// (`,` for `/`, no padding) of its UTF-16BE form, then "-".
public enum ModifiedUTF7 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)
    static let values: [UInt8: UInt8] = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, UInt8($0)) })

    /// The modified UTF-7 form of a mailbox name.
    public static func encode(_ name: String) -> String {
        var out = ""
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            var bytes: [UInt8] = []
            for unit in pending { bytes += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
            out += "&" + base64(bytes) + "-"
            pending.removeAll()
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out += scalar == "&" ? "&-" : String(scalar)
            } else {
                pending += Array(String(scalar).utf16)
            }
        }
        flush()
        return out
    }

    /// The name a modified UTF-7 form stands for; nil when it is not valid modified UTF-7
    /// (bytes outside printable ASCII, a bad base64 run, stray bits, broken surrogates, a run
    /// that encodes printable ASCII, which must stand for itself, or two runs back to back).
    public static func decode(_ text: String) -> String? {
        var out = ""
        var bytes = Array(text.utf8)[...]
        // One name has one spelling: two runs back to back ("&AOQ-&APY-") are one run written
        // twice, and are refused as Dovecot refuses them.
        var afterRun = false
        while let byte = bytes.first {
            guard byte >= 0x20 && byte <= 0x7E else { return nil }
            bytes = bytes.dropFirst()
            guard byte == UInt8(ascii: "&") else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
                afterRun = false
                continue
            }
            guard let end = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
            let run = bytes[bytes.startIndex..<end]
            bytes = bytes[(end + 1)...]
            if run.isEmpty {
                out += "&"
                afterRun = false
                continue
            }
            guard !afterRun else { return nil }
            afterRun = true
            guard let decoded = unbase64(run), decoded.count % 2 == 0, !decoded.isEmpty else { return nil }
            let units = stride(from: 0, to: decoded.count, by: 2).map { UInt16(decoded[$0]) << 8 | UInt16(decoded[$0 + 1]) }
            var iterator = units.makeIterator()
            var decoder = UTF16()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar):
                    // A printable ASCII character must not be encoded (RFC 3501 §5.1.3).
                    if scalar.value >= 0x20 && scalar.value <= 0x7E { return nil }
                    out.unicodeScalars.append(scalar)
                case .emptyInput: break decoding
                case .error: return nil
                }
            }
        }
        return out
    }

    static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let b0 = chunk[chunk.startIndex]
            let b1 = chunk.count > 1 ? chunk[chunk.startIndex + 1] : 0
            let b2 = chunk.count > 2 ? chunk[chunk.startIndex + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            if chunk.count > 1 { out.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]) }
            if chunk.count > 2 { out.append(alphabet[Int(b2 & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Modified base64 without padding; nil for a character outside the alphabet or leftover
    /// bits that are not zero.
    static func unbase64(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text {
            guard let value = values[character] else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        // At most 5 leftover bits, all zero (a whole character of padding is invalid).
        guard bits < 6, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
