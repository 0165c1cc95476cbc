/// A structured MIME field value: `Content-Type` (RFC 2045 §5.1) or `Content-Disposition`
/// (RFC 2183): a value (`type/subtype`, or a disposition) and `; attribute=value` parameters.
/// Parameters split by RFC 2231 continuations (`name*0`, `name*1*`) are joined; an extended
/// value keeps its `charset'language'%XX` form under the name `name*`, as sent.
public struct MIMEFieldValue: Sendable, Hashable {
    /// Lower-cased, comments removed: `text/plain`, `attachment`. Empty when missing.
    public var value: String
    /// In order of first appearance; names lower-cased, values as sent (quotes removed).
    public var parameters: [(name: String, value: [UInt8])]

    /// At most this many parameters are kept (a hostile field cannot make an endless list).
    public static let maximumParameters = 64

    public static func == (a: Self, b: Self) -> Bool {
        a.value == b.value && a.parameters.map(\.name) == b.parameters.map(\.name) && a.parameters.map(\.value) == b.parameters.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
        for parameter in parameters {
            hasher.combine(parameter.name)
            hasher.combine(parameter.value)
        }
    }

    public init(value: String, parameters: [(name: String, value: [UInt8])] = []) {
        self.value = value
        self.parameters = parameters
    }

    public func parameter(_ name: String) -> [UInt8]? {
        let wanted = name.lowercased()
        return parameters.first { $0.name == wanted }?.value
    }

    /// Parses a field value; never fails (a broken parameter is skipped).
    public init(parsing bytes: [UInt8]) {
        var reader = Reader(bytes: bytes)
        reader.skipSpaceAndComments()
        var main: [UInt8] = []
        while let byte = reader.peek, byte != UInt8(ascii: ";") {
            if byte == UInt8(ascii: "(") {
                reader.skipSpaceAndComments()
                continue
            }
            if byte != 0x20 && byte != 0x09 { main.append(byte) }
            reader.position += 1
        }
        value = String(decoding: main, as: UTF8.self).lowercased()
        var raw: [(name: String, value: [UInt8])] = []
        while reader.peek == UInt8(ascii: ";"), raw.count < Self.maximumParameters * 4 {
            reader.position += 1
            reader.skipSpaceAndComments()
            let name = reader.token()
            reader.skipSpaceAndComments()
            guard !name.isEmpty, reader.peek == UInt8(ascii: "=") else {
                reader.skip(to: UInt8(ascii: ";"))
                continue
            }
            reader.position += 1
            reader.skipSpaceAndComments()
            let parameterValue: [UInt8]
            if reader.peek == UInt8(ascii: "\"") {
                parameterValue = reader.quoted()
            } else {
                parameterValue = Array(reader.token().utf8)
            }
            raw.append((name.lowercased(), parameterValue))
            reader.skipSpaceAndComments()
            if reader.peek != UInt8(ascii: ";") { reader.skip(to: UInt8(ascii: ";")) }
        }
        parameters = Self.joiningContinuations(raw)
    }

    /// RFC 2231 §3–4: `name*0`, `name*1`… (each possibly `*`-extended) become one parameter.
    static func joiningContinuations(_ raw: [(name: String, value: [UInt8])]) -> [(name: String, value: [UInt8])] {
        var out: [(name: String, value: [UInt8])] = []
        var sections: [String: [(index: Int, extended: Bool, value: [UInt8])]] = [:]
        var order: [String] = []
        for (name, value) in raw {
            let pieces = name.split(separator: "*", omittingEmptySubsequences: false)
            if pieces.count >= 2, let index = Int(pieces[1]), pieces.count <= 3, pieces[1].allSatisfy(\.isNumber) {
                let base = String(pieces[0])
                if sections[base] == nil { order.append(base) }
                sections[base, default: []].append((index, pieces.count == 3, value))
                continue
            }
            if out.contains(where: { $0.name == name }) { continue }
            out.append((name, value))
        }
        for base in order {
            guard let parts = sections[base]?.sorted(by: { $0.index < $1.index }), parts.first?.index == 0 else { continue }
            var joined: [UInt8] = []
            var expected = 0
            for part in parts where part.index == expected {
                joined += part.value
                expected += 1
            }
            let extended = parts[0].extended
            let name = extended ? base + "*" : base
            if out.contains(where: { $0.name == name }) { continue }
            out.append((name, joined))
        }
        return Array(out.prefix(Self.maximumParameters))
    }

    struct Reader {
        let bytes: [UInt8]
        var position = 0

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        /// Skips white space and (nested) comments (RFC 5322 §3.2.2), nesting bounded by the input.
        mutating func skipSpaceAndComments() {
            var depth = 0
            while let byte = peek {
                if depth > 0 {
                    if byte == UInt8(ascii: "\\") { position += 1 } else if byte == UInt8(ascii: "(") { depth += 1 } else if byte == UInt8(ascii: ")") { depth -= 1 }
                    position += 1
                    continue
                }
                if byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A {
                    position += 1
                } else if byte == UInt8(ascii: "(") {
                    depth = 1
                    position += 1
                } else {
                    return
                }
            }
        }

        /// RFC 2045 `token`: anything but space, controls and tspecials.
        mutating func token() -> String {
            let start = position
            while let byte = peek, byte > 0x20, byte != 0x7F, !Self.tspecials.contains(byte) { position += 1 }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func quoted() -> [UInt8] {
            var out: [UInt8] = []
            position += 1
            while let byte = peek {
                position += 1
                if byte == UInt8(ascii: "\"") { return out }
                if byte == UInt8(ascii: "\\"), let next = peek {
                    out.append(next)
                    position += 1
                } else if byte != 0x0D && byte != 0x0A {
                    out.append(byte)
                }
            }
            return out
        }

        mutating func skip(to byte: UInt8) {
            var inQuotes = false
            while let next = peek {
                if next == UInt8(ascii: "\"") { inQuotes.toggle() }
                if next == byte && !inQuotes { return }
                if next == UInt8(ascii: "\\") { position += 1 }
                position += 1
            }
        }

        static let tspecials: Set<UInt8> = Set("()<>@,;:\\\"/[]?=".utf8)
    }
}
