/// One element of an RFC 5322 address list (§3.4) as IMAP's ENVELOPE lists it (RFC 9051
/// §7.5.2): a mailbox with its display name, or the start or end of a group. Display names stay
/// as sent (encoded words are not decoded); quoted strings lose their quotes.
public enum AddressListEntry: Sendable, Hashable {
    case mailbox(name: [UInt8]?, route: [UInt8]?, local: [UInt8], domain: [UInt8]?)
    case groupStart(name: [UInt8])
    case groupEnd

    /// At most this many entries are read from one field.
    public static let maximumEntries = 1000

    /// Reads a field value; tolerant of what real mail has (missing angle brackets, stray
    /// commas, unterminated quotes or comments). One pass, no backtracking.
    public static func parse(_ value: [UInt8]) -> [AddressListEntry] {
        var tokens = Tokenizer(bytes: value)
        var out: [AddressListEntry] = []
        var words: [[UInt8]] = []  // a display name's words, if a "<" or ":" follows
        var bare: [UInt8] = []  // the same tokens run together: a bare addr-spec, if not
        var sawAt = false
        var inGroup = false
        func reset() {
            words = []
            bare = []
            sawAt = false
        }
        func flushBare() {
            if !bare.isEmpty { out.append(Self.mailbox(spec: bare, name: nil)) }
            reset()
        }
        while out.count < Self.maximumEntries, let token = tokens.next() {
            switch token {
            case .word(let word, let quoted):
                words.append(word)
                let needsQuotes = quoted && word.contains { Tokenizer.specials.contains($0) || Tokenizer.space($0) }
                bare += needsQuotes ? [UInt8(ascii: "\"")] + word + [UInt8(ascii: "\"")] : word
            case .special(UInt8(ascii: "<")):
                let spec = tokens.angle()
                let name = words.isEmpty ? nil : Array(words.joined(separator: [0x20]))
                reset()
                out.append(Self.mailbox(spec: spec, name: name))
            case .special(UInt8(ascii: ":")) where !inGroup && !sawAt:
                out.append(.groupStart(name: Array(words.joined(separator: [0x20]))))
                reset()
                inGroup = true
            case .special(UInt8(ascii: ";")) where inGroup:
                flushBare()
                out.append(.groupEnd)
                inGroup = false
            case .special(UInt8(ascii: ",")):
                flushBare()
            case .special(let byte):
                if byte == UInt8(ascii: "@") { sawAt = true }
                bare.append(byte)
            }
        }
        flushBare()
        if inGroup { out.append(.groupEnd) }
        return out
    }

    /// `local@domain`, or an `@route,@route:local@domain` source route (RFC 5322 §4.4 obs-route).
    static func mailbox(spec: [UInt8], name: [UInt8]?) -> AddressListEntry {
        var spec = spec
        var route: [UInt8]?
        if spec.first == UInt8(ascii: "@"), let colon = spec.firstIndex(of: UInt8(ascii: ":")) {
            route = Array(spec[..<colon])
            spec = Array(spec[(colon + 1)...])
        }
        guard let at = spec.lastIndex(of: UInt8(ascii: "@")) else { return .mailbox(name: name, route: route, local: spec, domain: nil) }
        return .mailbox(name: name, route: route, local: Array(spec[..<at]), domain: Array(spec[(at + 1)...]))
    }

    struct Tokenizer {
        enum Token {
            case word([UInt8], quoted: Bool)
            case special(UInt8)
        }

        let bytes: [UInt8]
        var position = 0

        mutating func next() -> Token? {
            skipSpaceAndComments()
            guard position < bytes.count else { return nil }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { return .word(quoted(), quoted: true) }
            if Self.specials.contains(byte) {
                position += 1
                return .special(byte)
            }
            let start = position
            while position < bytes.count, !Self.specials.contains(bytes[position]), !Self.space(bytes[position]), bytes[position] != UInt8(ascii: "("),
                bytes[position] != UInt8(ascii: "\"")
            {
                position += 1
            }
            return .word(Array(bytes[start..<position]), quoted: false)
        }

        /// The addr-spec inside `<…>`, comments and spaces dropped, up to `>` (or the end).
        mutating func angle() -> [UInt8] {
            var out: [UInt8] = []
            while position < bytes.count {
                skipSpaceAndComments()
                guard position < bytes.count else { break }
                let byte = bytes[position]
                if byte == UInt8(ascii: ">") {
                    position += 1
                    break
                }
                if byte == UInt8(ascii: "\"") {
                    // A quoted local part keeps its quotes, as it must be written to be valid.
                    let text = quoted()
                    let needsQuotes = text.contains { Self.specials.contains($0) || Self.space($0) }
                    out += needsQuotes ? [UInt8(ascii: "\"")] + text + [UInt8(ascii: "\"")] : text
                    continue
                }
                out.append(byte)
                position += 1
            }
            return out
        }

        mutating func quoted() -> [UInt8] {
            var out: [UInt8] = []
            position += 1
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { return out }
                if byte == UInt8(ascii: "\\"), position < bytes.count {
                    out.append(bytes[position])
                    position += 1
                } else if byte != 0x0D && byte != 0x0A {
                    out.append(byte)
                }
            }
            return out
        }

        mutating func skipSpaceAndComments() {
            var depth = 0
            while position < bytes.count {
                let byte = bytes[position]
                if depth > 0 {
                    if byte == UInt8(ascii: "\\") { position += 1 } else if byte == UInt8(ascii: "(") { depth += 1 } else if byte == UInt8(ascii: ")") { depth -= 1 }
                    position += 1
                } else if Self.space(byte) {
                    position += 1
                } else if byte == UInt8(ascii: "(") {
                    depth = 1
                    position += 1
                } else {
                    return
                }
            }
        }

        static func space(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        static let specials: Set<UInt8> = Set("<>:;,@".utf8)
    }
}
