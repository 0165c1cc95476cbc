/// Strict base64 (RFC 4648 §4) without Foundation, for SASL lines in the protocol cores.
public enum Base64Text {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `decode` for text.
    public static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)) }

    /// nil unless the text is canonical padded base64 (RFC 4954 §4 answers 501 otherwise).
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var i = 0
        while i < input.count {
            let a = values[Int(input[i])], b = values[Int(input[i + 1])]
            let c = input[i + 2], d = input[i + 3]
            guard a != 0xFF, b != 0xFF else { return nil }
            let last = i + 4 == input.count
            if c == UInt8(ascii: "=") {
                // "xx==": only at the end, and the unused bits must be zero.
                guard last, d == UInt8(ascii: "="), b & 0x0F == 0 else { return nil }
                out.append(a << 2 | b >> 4)
            } else if d == UInt8(ascii: "=") {
                let cv = values[Int(c)]
                guard last, cv != 0xFF, cv & 0x03 == 0 else { return nil }
                out += [a << 2 | b >> 4, b << 4 | cv >> 2]
            } else {
                let cv = values[Int(c)], dv = values[Int(d)]
                guard cv != 0xFF, dv != 0xFF else { return nil }
                out += [a << 2 | b >> 4, b << 4 | cv >> 2, cv << 6 | dv]
            }
            i += 4
        }
        return out
    }
}
