/// A minimal, allocation-light reader of an RFC 5322 header block: finds fields by name and
/// unfolds their values. Full MIME parsing lives elsewhere; the receiver needs only a few fields.
public enum HeaderFields {
    /// The unfolded value of the first field named `name` (case-insensitive), or nil.
    public static func firstValue<C: RandomAccessCollection<UInt8>>(named name: String, in message: C) -> String? where C.Index == Int {
        let wanted = Array(name.lowercased().utf8)
        var lines = HeaderLines(message)
        while let field = lines.next() {
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let fieldName = field[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
            guard fieldName.count == wanted.count, fieldName.elementsEqual(wanted) else { continue }
            let value = String(decoding: field[(colon + 1)...], as: UTF8.self)
            return value.trimmingSpaces()
        }
        return nil
    }

    /// How many fields are named `name`.
    public static func count<C: RandomAccessCollection<UInt8>>(named name: String, in message: C) -> Int where C.Index == Int {
        let wanted = Array(name.lowercased().utf8)
        var lines = HeaderLines(message)
        var n = 0
        while let field = lines.next() {
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let fieldName = field[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
            if fieldName.count == wanted.count, fieldName.elementsEqual(wanted) { n += 1 }
        }
        return n
    }
}

/// Iterates unfolded header fields (RFC 5322 §2.2.3) up to the empty line that ends the header.
/// Reads in place: no copy of the message, only of each header field it returns.
struct HeaderLines<C: RandomAccessCollection<UInt8>> where C.Index == Int {
    let bytes: C
    var index: Int
    var finished = false

    init(_ bytes: C) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    mutating func next() -> [UInt8]? {
        guard !finished, index < bytes.endIndex else { return nil }
        var field: [UInt8] = []
        while index < bytes.endIndex {
            var end = index
            while end < bytes.endIndex, bytes[end] != 0x0A { end += 1 }
            var line = bytes[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            let lineStart = index
            if line.isEmpty {
                if field.isEmpty { finished = true; return nil }
                return field
            }
            if !field.isEmpty, line.first != 0x20, line.first != 0x09 {
                index = lineStart
                return field
            }
            field.append(contentsOf: line)
            index = end + 1
        }
        finished = true
        return field.isEmpty ? nil : field
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
