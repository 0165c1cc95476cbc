/// Character references in HTML attribute values (`&amp;` in an href is `&` in the URL a
/// browser follows): the five XML entities and numeric references. Anything else is left as
/// written, as a browser would for an unknown name.
enum HTMLEntities {
    static let named: [String: UInt8] = ["amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27]

    static func decode(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "&")) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "&"), let semicolon = bytes[(i + 1)..<min(bytes.count, i + 12)].firstIndex(of: UInt8(ascii: ";")) else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let name = String(decoding: bytes[(i + 1)..<semicolon], as: UTF8.self)
            if let byte = named[name.lowercased()] {
                out.append(byte)
            } else if name.hasPrefix("#"), let scalar = codePoint(name.dropFirst()) {
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            } else {
                out.append(bytes[i])
                i += 1
                continue
            }
            i = semicolon + 1
        }
        return out
    }

    static func codePoint(_ digits: Substring) -> Unicode.Scalar? {
        let value: UInt32?
        if digits.first == "x" || digits.first == "X" {
            value = UInt32(digits.dropFirst(), radix: 16)
        } else {
            value = UInt32(digits, radix: 10)
        }
        guard let value, value != 0 else { return nil }
        return Unicode.Scalar(value)
    }
}
