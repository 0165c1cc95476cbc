/// Reads the elements of one whole command (as `IMAPCommandFramer` delivers it) by RFC 9051
/// §9's grammar: atoms, quoted strings, literals, astrings, numbers, lists. A cursor over the
/// bytes: each read either consumes its element or throws and leaves the position where it was.
public struct IMAPTokenReader: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        /// What was expected where, for the `BAD` text.
        case expected(String, at: Int)
    }

    let bytes: [UInt8]
    public private(set) var position: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
    }

    public var atEnd: Bool { position >= bytes.count }

    /// The next byte, without consuming it.
    public var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    func fail(_ what: String) -> Failure { .expected(what, at: position) }

    /// A failure naming what was expected here, for parsers built on the reader.
    public func failure(_ what: String) -> Failure { fail(what) }

    /// The keyword the last successful `take` consumed, upper-cased.
    public private(set) var lastKeyword = ""

    /// One or more bytes that `accept` allows, consumed.
    public mutating func run(while accept: (UInt8) -> Bool, _ what: String) throws(Failure) -> [UInt8] {
        let start = position
        while let byte = peek, accept(byte) { position += 1 }
        guard position > start else { throw fail(what) }
        return Array(bytes[start..<position])
    }

    /// One exact byte.
    public mutating func expect(_ byte: UInt8) throws(Failure) {
        guard peek == byte else { throw fail("\"\(Character(Unicode.Scalar(byte)))\"") }
        position += 1
    }

    public mutating func space() throws(Failure) { try expect(0x20) }

    /// The CRLF that ends the command, and nothing after it.
    public mutating func end() throws(Failure) {
        guard position + 2 == bytes.count, bytes[position] == 0x0D, bytes[position + 1] == 0x0A else { throw fail("end of command") }
        position += 2
    }

    /// Whether `keyword` (case-insensitive) comes next, as a whole atom; consumed if so.
    public mutating func take(_ keyword: String) -> Bool {
        let wanted = Array(keyword.utf8)
        guard position + wanted.count <= bytes.count else { return false }
        for (offset, byte) in wanted.enumerated() where Self.upper(bytes[position + offset]) != Self.upper(byte) { return false }
        let next = position + wanted.count < bytes.count ? bytes[position + wanted.count] : nil
        if let next, Self.isAtomChar(next), Self.isAtomChar(wanted.last!) { return false }
        position += wanted.count
        lastKeyword = keyword.uppercased()
        return true
    }

    /// Whether `prefix` (case-insensitive) comes next, whatever follows it; consumed if so.
    /// For items whose name runs into a bracket, like `BODY[`.
    public mutating func takePrefix(_ prefix: String) -> Bool {
        let wanted = Array(prefix.utf8)
        guard position + wanted.count <= bytes.count else { return false }
        for (offset, byte) in wanted.enumerated() where Self.upper(bytes[position + offset]) != Self.upper(byte) { return false }
        position += wanted.count
        return true
    }

    /// Restores an earlier position (a parser that read ahead and must give it back).
    public mutating func rewind(to position: Int) { self.position = position }

    /// A 63-bit number (RFC 7162 `mod-sequence-value`: 1 to 2^63 - 1).
    public mutating func number64() throws(Failure) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        while let byte = peek, byte >= 0x30 && byte <= 0x39, position - start < 19 {
            value = value * 10 + UInt64(byte - 0x30)
            position += 1
        }
        guard position > start, value <= UInt64(Int64.max), !(peek.map { $0 >= 0x30 && $0 <= 0x39 } ?? false) else {
            position = start
            throw fail("a number")
        }
        return value
    }

    /// `atom`: one or more ATOM-CHARs.
    public mutating func atom() throws(Failure) -> String {
        let start = position
        while let byte = peek, Self.isAtomChar(byte) { position += 1 }
        guard position > start else { throw fail("an atom") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// `astring`: an atom (with "]" allowed), a quoted string or a literal.
    public mutating func astring() throws(Failure) -> [UInt8] {
        if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "{") || peek == UInt8(ascii: "~") { return try string() }
        let start = position
        while let byte = peek, Self.isAtomChar(byte) || byte == UInt8(ascii: "]") { position += 1 }
        guard position > start else { throw fail("an astring") }
        return Array(bytes[start..<position])
    }

    /// `string`: quoted or literal.
    public mutating func string() throws(Failure) -> [UInt8] {
        if peek == UInt8(ascii: "\"") { return try quoted() }
        return try literal()
    }

    /// `nstring`: a string or NIL.
    public mutating func nstring() throws(Failure) -> [UInt8]? {
        if take("NIL") { return nil }
        return try string()
    }

    /// `quoted`: DQUOTE *QUOTED-CHAR DQUOTE, with `\"` and `\\` the only escapes; no CR or LF
    /// (RFC 9051 §9). UTF-8 is allowed (`quoted-char` includes UTF8-2/3/4).
    public mutating func quoted() throws(Failure) -> [UInt8] {
        let start = position
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while let byte = peek {
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return out
            case UInt8(ascii: "\\"):
                guard let next = peek, next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else {
                    position = start
                    throw fail("a quoted string (only \\\" and \\\\ are escapes)")
                }
                out.append(next)
                position += 1
            case 0x0D, 0x0A, 0x00:
                position = start
                throw fail("a quoted string without CR, LF or NUL")
            default:
                out.append(byte)
            }
        }
        position = start
        throw fail("a closing quote")
    }

    /// `literal` / `literal8`: `{n}` or `{n+}` (or `~{n}` for binary), CRLF, then n octets
    /// (the framer has already collected them).
    public mutating func literal() throws(Failure) -> [UInt8] {
        let start = position
        var binary = false
        if peek == UInt8(ascii: "~") {
            binary = true
            position += 1
        }
        guard peek == UInt8(ascii: "{") else {
            position = start
            throw fail("a literal")
        }
        position += 1
        var size = 0
        var digits = 0
        while let byte = peek, byte >= 0x30 && byte <= 0x39, digits < 10 {
            size = size * 10 + Int(byte - 0x30)
            digits += 1
            position += 1
        }
        if peek == UInt8(ascii: "+") { position += 1 }
        guard digits > 0, peek == UInt8(ascii: "}"), position + 3 + size <= bytes.count, bytes[position + 1] == 0x0D,
            bytes[position + 2] == 0x0A
        else {
            position = start
            throw fail("a literal")
        }
        position += 3
        let data = Array(bytes[position..<(position + size)])
        // A literal (not literal8) may not hold NUL (RFC 9051 §4.3).
        if !binary, data.contains(0) {
            position = start
            throw fail("a literal without NUL (use ~{n} for binary)")
        }
        position += size
        return data
    }

    /// `number`: 1 to 10 digits, at most 2^32 - 1.
    public mutating func number() throws(Failure) -> UInt32 {
        let start = position
        var value: UInt64 = 0
        while let byte = peek, byte >= 0x30 && byte <= 0x39, position - start < 10 {
            value = value * 10 + UInt64(byte - 0x30)
            position += 1
        }
        guard position > start, value <= UInt64(UInt32.max), !(peek.map { $0 >= 0x30 && $0 <= 0x39 } ?? false) else {
            position = start
            throw fail("a number")
        }
        return UInt32(value)
    }

    /// `nz-number`: a number that is not 0 and has no leading zero.
    public mutating func nonZeroNumber() throws(Failure) -> UInt32 {
        let start = position
        guard peek != UInt8(ascii: "0") else { throw fail("a number from 1") }
        let value = try number()
        guard value > 0 else {
            position = start
            throw fail("a number from 1")
        }
        return value
    }

    /// A parenthesised list whose elements `element` reads, separated by single spaces; an
    /// empty list allowed when `allowEmpty`. At most `maximum` elements.
    public mutating func list<T>(
        allowEmpty: Bool = true, maximum: Int = 1000, _ element: (inout IMAPTokenReader) throws(Failure) -> T
    ) throws(Failure) -> [T] {
        let start = position
        do throws(Failure) {
            try expect(UInt8(ascii: "("))
            var out: [T] = []
            if peek == UInt8(ascii: ")") {
                guard allowEmpty else { throw fail("a list element") }
                position += 1
                return out
            }
            while true {
                guard out.count < maximum else { throw fail("at most \(maximum) list elements") }
                out.append(try element(&self))
                if peek == UInt8(ascii: ")") {
                    position += 1
                    return out
                }
                try space()
            }
        } catch {
            position = start
            throw error
        }
    }

    /// A flag: `\Word` (system or extension flag) or a keyword atom (RFC 9051 `flag`).
    public mutating func flag() throws(Failure) -> String {
        if peek == UInt8(ascii: "\\") {
            let start = position
            position += 1
            do {
                return "\\" + (try atom())
            } catch {
                position = start
                throw error
            }
        }
        return try atom()
    }

    /// `sequence-set` (or `$`).
    public mutating func sequenceSet() throws(Failure) -> SequenceSet {
        let start = position
        while let byte = peek, (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "*")
            || byte == UInt8(ascii: "$")
        {
            position += 1
        }
        guard let set = SequenceSet(parsing: Substring(decoding: bytes[start..<position], as: UTF8.self)) else {
            position = start
            throw fail("a sequence set")
        }
        return set
    }

    /// ATOM-CHAR: any CHAR except atom-specials (RFC 9051 §9): `(){ %*"\]`, CTLs.
    public static func isAtomChar(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte < 0x7F else { return false }
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"), UInt8(ascii: "\""),
            UInt8(ascii: "\\"), UInt8(ascii: "]"):
            return false
        default:
            return true
        }
    }

    static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }
}
