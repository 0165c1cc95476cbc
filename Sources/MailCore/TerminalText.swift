/// Text from the network made safe for a terminal or a log line: control characters, bare
/// carriage returns, DEL, C1 controls and bytes that are not UTF-8 are shown as `\xNN` escapes,
/// so a message or a DNS answer can neither move the cursor, rewrite a terminal title, nor
/// forge a second log line (issue 12 item 8). One pass, linear in the input.
public enum TerminalText {
    /// How line breaks are shown.
    public enum LineBreaks: Sendable {
        /// CRLF and LF are kept as new lines (message content printed for a person).
        case keep
        /// Every CR and LF is escaped (one log line, one field).
        case escape
    }

    public static func escaped(_ bytes: some Collection<UInt8>, lineBreaks: LineBreaks = .escape) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        func escape(_ byte: UInt8) {
            let digits = Array("0123456789abcdef".utf8)
            out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
        }
        while i < input.count {
            let byte = input[i]
            switch byte {
            case UInt8(ascii: "\n") where lineBreaks == .keep:
                out.append(byte)
                i += 1
            case UInt8(ascii: "\r") where lineBreaks == .keep && i + 1 < input.count && input[i + 1] == UInt8(ascii: "\n"):
                // CRLF shows as one line break.
                out.append(UInt8(ascii: "\n"))
                i += 2
            case UInt8(ascii: "\t"):
                out.append(byte)
                i += 1
            case UInt8(ascii: "\\"):
                // The escape character escapes itself, so `\x1b` in the input stays readable as text.
                out += [byte, byte]
                i += 1
            case 0x00..<0x20, 0x7F:
                escape(byte)
                i += 1
            case 0x20..<0x7F:
                out.append(byte)
                i += 1
            default:
                let length = utf8SequenceLength(input, at: i)
                if length == 0 {
                    escape(byte)
                    i += 1
                } else {
                    let scalar = input[i..<i + length]
                    // C1 controls (U+0080–U+009F) act like ESC sequences on many terminals.
                    if length == 2, scalar.first == 0xC2, let second = scalar.last, second < 0xA0 {
                        for b in scalar { escape(b) }
                    } else {
                        out += scalar
                    }
                    i += length
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The length of the well-formed UTF-8 sequence at `i` (RFC 3629 §4), or 0.
    static func utf8SequenceLength(_ bytes: [UInt8], at i: Int) -> Int {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard i + length <= bytes.count else { return 0 }
        for k in 1..<length {
            let byte = bytes[i + k]
            let (lo, hi) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= lo && byte <= hi else { return 0 }
        }
        return length
    }

    /// `escaped` for a string (a log field, a reply text).
    public static func escaped(_ text: String, lineBreaks: LineBreaks = .escape) -> String {
        // Fast path: most fields need nothing.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) { return text }
        return escaped(Array(text.utf8), lineBreaks: lineBreaks)
    }
}
