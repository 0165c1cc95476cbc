/// Decoders for RFC 2045 §6 transfer encodings as found in received mail: tolerant (line
/// breaks and junk in base64 are skipped, a broken `=XX` in quoted-printable is kept as it is),
/// linear, never failing on content. An unknown encoding is the caller's to refuse.
public enum TransferDecoding {
    /// Decodes `body` by the encoding named `encoding` (case-insensitive); nil for an encoding
    /// that is not one of RFC 2045's (IMAP answers `NO [UNKNOWN-CTE]`, RFC 3516 §4.1).
    public static func decode(_ body: some Collection<UInt8>, encoding: String) -> [UInt8]? {
        switch encoding.trimmingSpaces().lowercased() {
        case "", "7bit", "8bit", "binary": return Array(body)
        case "base64": return base64(body)
        case "quoted-printable": return quotedPrintable(body)
        default: return nil
        }
    }

    static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Base64 with everything outside the alphabet skipped; stops at padding.
    public static func base64(_ body: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in body {
            if byte == UInt8(ascii: "=") { break }
            let value = base64Values[Int(byte)]
            guard value != 0xFF else { continue }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX` decoded, soft line breaks (`=` at the end of a
    /// line) removed, trailing white space of each line dropped (rule 3).
    public static func quotedPrintable(_ body: some Collection<UInt8>) -> [UInt8] {
        let input = Array(body)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        var pendingSpace: [UInt8] = []
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: return byte - 0x30
            case 0x41...0x46: return byte - 0x37
            case 0x61...0x66: return byte - 0x57
            default: return nil
            }
        }
        while i < input.count {
            let byte = input[i]
            if byte == 0x20 || byte == 0x09 {
                pendingSpace.append(byte)
                i += 1
                continue
            }
            if byte == 0x0D || byte == 0x0A {
                pendingSpace.removeAll()
                out.append(byte)
                i += 1
                continue
            }
            out += pendingSpace
            pendingSpace.removeAll()
            if byte == UInt8(ascii: "=") {
                // A soft line break: "=" then optional white space then CRLF (or LF).
                var j = i + 1
                while j < input.count, input[j] == 0x20 || input[j] == 0x09 { j += 1 }
                if j < input.count, input[j] == 0x0D || input[j] == 0x0A {
                    if input[j] == 0x0D, j + 1 < input.count, input[j + 1] == 0x0A { j += 1 }
                    i = j + 1
                    continue
                }
                if j == input.count {
                    i = j
                    continue
                }
                if i + 2 < input.count, let high = hex(input[i + 1]), let low = hex(input[i + 2]) {
                    out.append(high << 4 | low)
                    i += 3
                    continue
                }
            }
            out.append(byte)
            i += 1
        }
        return out
    }
}
