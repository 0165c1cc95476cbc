/// An `application/x-www-form-urlencoded` body (the WHATWG URL standard's parser: `&`
/// separates pairs, `+` is a space, `%XX` a byte), bounded by the caller's read limit. Invalid
/// escapes are kept as they are; names repeat (`getAll`).
public struct FormBody: Sendable {
    public private(set) var pairs: [(name: String, value: String)] = []

    public init(_ bytes: some Sequence<UInt8>) {
        var fields: [[UInt8]] = [[]]
        for byte in bytes {
            if byte == UInt8(ascii: "&") { fields.append([]) } else { fields[fields.count - 1].append(byte) }
        }
        for field in fields where !field.isEmpty {
            let equals = field.firstIndex(of: UInt8(ascii: "="))
            let name = Self.decode(field[..<(equals ?? field.endIndex)])
            let value = equals.map { Self.decode(field[field.index(after: $0)...]) } ?? ""
            pairs.append((name, value))
        }
    }

    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    public func getAll(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
