/// A tag=value list (RFC 6376 §3.2), the syntax of DKIM-Signature fields, DKIM key records and
/// DMARC records: `tag-list = tag-spec *( ";" tag-spec ) [ ";" ]`.
public struct TagList: Sendable, Equatable {
    public enum ParseError: Error, Equatable, Sendable {
        case malformed(String)
        case duplicate(String)
    }

    /// Tags in order, names as written, values with surrounding whitespace removed.
    public private(set) var tags: [(name: String, value: String)]

    public static func == (a: TagList, b: TagList) -> Bool {
        a.tags.count == b.tags.count && zip(a.tags, b.tags).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public init(parsing text: String) throws(ParseError) {
        var tags: [(name: String, value: String)] = []
        var seen: Set<String> = []
        let specs = text.split(separator: ";", omittingEmptySubsequences: false)
        for (index, spec) in specs.enumerated() {
            let trimmed = Self.trim(spec)
            if trimmed.isEmpty {
                // Only the optional trailing ";" may leave an empty spec.
                if index == specs.count - 1 { continue }
                throw .malformed("empty tag")
            }
            guard let equals = trimmed.firstIndex(of: "=") else { throw .malformed("no '=' in \"\(trimmed)\"") }
            let name = Self.trim(trimmed[..<equals])
            let value = Self.trim(trimmed[trimmed.index(after: equals)...])
            guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII,
                name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") })
            else { throw .malformed("bad tag name \"\(name)\"") }
            guard seen.insert(name).inserted else { throw .duplicate(name) }
            tags.append((name, value))
        }
        self.tags = tags
    }

    public subscript(_ name: String) -> String? {
        tags.first { $0.name == name }?.value
    }

    /// FWS around names and values (RFC 6376 §3.2 allows it; CR and LF come from folding).
    static func trim(_ s: Substring) -> String {
        var s = s
        while let c = s.first, c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\r\n" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\r\n" { s = s.dropLast() }
        return String(s)
    }

    /// A value with every whitespace character removed (base64 in b=, bh=, p=).
    static func compact(_ value: String) -> String {
        String(value.unicodeScalars.filter { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n") }.map(Character.init))
    }
}
