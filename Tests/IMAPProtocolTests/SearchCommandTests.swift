import Testing

@testable import IMAPProtocol

/// SEARCH and UID SEARCH (RFC 9051 §6.4.4, ESEARCH RFC 4731, SEARCHRES RFC 5182, MODSEQ).
@Suite struct SearchCommandTests {
    func search(_ text: String) -> SearchCommand? {
        guard case .search(let command, _)? = try? IMAPCommandParser.parse(Array((text + "\r\n").utf8)).get().kind else { return nil }
        return command
    }
    func b(_ text: String) -> [UInt8] { Array(text.utf8) }
    func set(_ text: String) -> SequenceSet { SequenceSet(parsing: Substring(text))! }

    @Test func keys() {
        #expect(search("a SEARCH ALL")?.key == .all)
        #expect(search("a SEARCH UNSEEN FROM \"alice\" SINCE 1-Feb-2024")?.key == .and([.unseen, .from(b("alice")), .since(IMAPDate.days(year: 2024, month: 2, day: 1))]))
        #expect(search("a SEARCH OR SEEN (FLAGGED NOT DELETED)")?.key == .or(.seen, .and([.flagged, .not(.deleted)])))
        #expect(search("a SEARCH 1:5,7 UID 10:* LARGER 100 SMALLER 200")?.key == .and([.sequence(set("1:5,7")), .uid(set("10:*")), .larger(100), .smaller(200)]))
        #expect(search("a SEARCH HEADER List-Id \"\" KEYWORD $Junk UNKEYWORD $NotJunk")?.key == .and([.header(name: "List-Id", value: []), .keyword("$Junk"), .unkeyword("$NotJunk")]))
        #expect(search("a SEARCH MODSEQ 620162338")?.key == .modSeq(620_162_338))
        #expect(search("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338")?.key == .modSeq(620_162_338))
        #expect(search("a SEARCH SENTBEFORE \"31-Dec-1999\" TEXT {3}\r\nabc")?.key == .and([.sentBefore(IMAPDate.days(year: 1999, month: 12, day: 31)), .text(b("abc"))]))
        #expect(search("a SEARCH $")?.key == .sequence(.savedResult))
    }

    @Test func charsetAndReturnOptions() {
        #expect(search("a SEARCH CHARSET UTF-8 SUBJECT \"caf\u{e9}\"")?.charset == "UTF-8")
        #expect(search("a SEARCH RETURN (MIN MAX COUNT) DELETED")?.returnOptions == [.min, .max, .count])
        #expect(search("a SEARCH RETURN () DELETED")?.returnOptions == [.all])
        #expect(search("a SEARCH RETURN (SAVE) DELETED")?.returnOptions == [.save])
        #expect(search("a SEARCH DELETED")?.returnOptions == nil)
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "NOT ", count: IMAPCommandParser.maximumSearchDepth + 1) + "SEEN"
        #expect(search("a SEARCH \(deep)") == nil)
        let parens = String(repeating: "(", count: 100) + "SEEN" + String(repeating: ")", count: 100)
        #expect(search("a SEARCH \(parens)") == nil)
        #expect(search("a SEARCH " + String(repeating: "NOT ", count: 10) + "SEEN") != nil)
    }

    @Test func malformed() {
        for text in ["a SEARCH", "a SEARCH FROM", "a SEARCH SINCE 32-Jan-2024", "a SEARCH SINCE 1-Foo-2024", "a SEARCH OR SEEN", "a SEARCH (SEEN",
            "a SEARCH RETURN (FOO) ALL", "a SEARCH LARGER x", "a SEARCH BOGUS"]
        {
            #expect(search(text) == nil, "\(text)")
        }
    }
}
