import Testing

@testable import IMAPProtocol

/// Every element reader: what it reads, and that a failure consumes nothing.
@Suite struct IMAPTokenReaderTests {
    typealias Failure = IMAPTokenReader.Failure

    func reader(_ text: String) -> IMAPTokenReader { IMAPTokenReader(Array(text.utf8)) }
    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Whether `body` throws; the reader's position is checked by the caller.
    func fails(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch {
            return true
        }
    }

    static func atom(_ r: inout IMAPTokenReader) throws(Failure) -> String { try r.atom() }
    static func flag(_ r: inout IMAPTokenReader) throws(Failure) -> String { try r.flag() }

    @Test func atomsAndKeywords() throws {
        var r = reader("FETCH 1:* (FLAGS)\r\n")
        let fetch = r.take("fetch")
        #expect(fetch)
        try r.space()
        let partial = r.take("1")  // not a whole atom: "1:*" goes on with an atom character
        #expect(!partial)
        let set = try r.sequenceSet()
        #expect(set.description == "1:*")
        try r.space()
        let items = try r.list(Self.atom)
        #expect(items == ["FLAGS"])
        try r.end()
        var bad = reader("(x")
        #expect(fails { _ = try bad.atom() } && bad.position == 0)
        var prefix = reader("SELECTED")
        let took = prefix.take("SELECT")
        #expect(!took && prefix.position == 0)
    }

    @Test func strings() throws {
        var r = reader(#""a \"b\" \\ ü" {3}"# + "\r\nxyz" + " plain NIL\r\n")
        let quoted = try r.astring()
        #expect(text(quoted) == #"a "b" \ ü"#)
        try r.space()
        let literal = try r.astring()
        #expect(text(literal) == "xyz")
        try r.space()
        let atom = try r.astring()
        #expect(text(atom) == "plain")
        try r.space()
        let nothing = try r.nstring()
        #expect(nothing == nil)
        try r.end()
        // Bad quoted strings and literals consume nothing.
        for bad in [#""open"#, #""bad \n escape""#, "\"cr\r\"", "{5}\r\nabc", "{x}\r\n", "{3}abc", "{00000000001}\r\nx", "{2}\r\na\u{0}"] {
            var r = reader(bad)
            #expect(fails { _ = try r.string() } && r.position == 0, "\(bad)")
        }
        // LITERAL+ and literal8 (binary, NUL allowed).
        var plus = reader("{2+}\r\nhi~{2}\r\na\u{0}")
        let hi = try plus.literal()
        let binary = try plus.literal()
        #expect(text(hi) == "hi" && binary == [0x61, 0x00])
    }

    @Test func numbers() throws {
        var r = reader("0 4294967295 4294967296")
        let zero = try r.number()
        try r.space()
        let largest = try r.number()
        try r.space()
        #expect(zero == 0 && largest == 4_294_967_295)
        let before = r.position
        #expect(fails { _ = try r.number() } && r.position == before)
        var z = reader("0")
        #expect(fails { _ = try z.nonZeroNumber() } && z.position == 0)
        var leading = reader("07")
        #expect(fails { _ = try leading.nonZeroNumber() } && leading.position == 0)
        var long = reader("12345678901")
        #expect(fails { _ = try long.number() } && long.position == 0)
    }

    @Test func listsAndFlags() throws {
        var r = reader(#"(\Seen \Answered $Forwarded) () (x"#)
        let flags = try r.list(Self.flag)
        #expect(flags == ["\\Seen", "\\Answered", "$Forwarded"])
        try r.space()
        let empty = try r.list(allowEmpty: true, Self.flag)
        #expect(empty.isEmpty)
        try r.space()
        let before = r.position
        #expect(fails { _ = try r.list(Self.flag) } && r.position == before)
        var none = reader("()")
        #expect(fails { _ = try none.list(allowEmpty: false, Self.atom) } && none.position == 0)
        // Bounded: more elements than allowed is a failure, not unbounded work.
        var many = reader("(" + Array(repeating: "a", count: 20).joined(separator: " ") + ")")
        #expect(fails { _ = try many.list(maximum: 10, Self.atom) } && many.position == 0)
    }

    @Test func endMeansExactlyCRLF() {
        var extra = reader("\r\nx")
        #expect(fails { try extra.end() })
        var bare = reader("\n")
        #expect(fails { try bare.end() })
    }
}
