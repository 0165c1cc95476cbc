/// One header section (RFC 5322 §2.2, RFC 2045 §3) read into its fields, in order. Values are
/// unfolded (the CRLF before continuation whitespace removed, the whitespace kept) and left as
/// sent otherwise: encoded words and 8-bit stay as they are (IMAP's ENVELOPE answers them raw).
public struct MIMEHeader: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: [UInt8]

        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    public var fields: [Field]

    /// At most this many fields are kept; a header with more keeps its first ones.
    public static let maximumFields = 1000

    public init(fields: [Field]) {
        self.fields = fields
    }

    /// Reads the fields of `bytes[range]` (a header section without its ending empty line, or
    /// with it). A line without a colon is skipped, as a broken field, not an error.
    public init(_ bytes: [UInt8], _ range: Range<Int>) {
        var fields: [Field] = []
        var position = range.lowerBound
        var current: (name: String, value: [UInt8])?
        func finish() {
            if let field = current, fields.count < Self.maximumFields { fields.append(Field(name: field.name, value: Self.trimmed(field.value))) }
            current = nil
        }
        while position < range.upperBound {
            var lineEnd = position
            while lineEnd < range.upperBound, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > position, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd == position { break }
            let first = bytes[position]
            if first == 0x20 || first == 0x09 {
                current?.value.append(contentsOf: bytes[position..<contentEnd])
            } else {
                finish()
                if let colon = bytes[position..<contentEnd].firstIndex(of: UInt8(ascii: ":")) {
                    let name = String(decoding: bytes[position..<colon], as: UTF8.self).trimmingSpaces()
                    if !name.isEmpty, !name.contains(" ") { current = (name, Array(bytes[(colon + 1)..<contentEnd])) }
                }
            }
            position = lineEnd + 1
        }
        finish()
        self.fields = fields
    }

    /// The first field named `name` (case-insensitive).
    public func first(_ name: String) -> [UInt8]? {
        fields.first { ASCIICase.equal($0.name, name) }?.value
    }

    /// The first field named `name` as text (UTF-8, invalid bytes replaced).
    public func text(_ name: String) -> String? { first(name).map { String(decoding: $0, as: UTF8.self) } }

    static func trimmed(_ value: [UInt8]) -> [UInt8] {
        var start = 0
        var end = value.count
        while start < end, value[start] == 0x20 || value[start] == 0x09 { start += 1 }
        while end > start, value[end - 1] == 0x20 || value[end - 1] == 0x09 { end -= 1 }
        return Array(value[start..<end])
    }
}
