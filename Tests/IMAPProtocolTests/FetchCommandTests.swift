import Testing

@testable import IMAPProtocol

/// FETCH and UID FETCH (RFC 9051 §6.4.5, RFC 7162 §3.1.4/§3.2.6): items, macros, sections.
@Suite struct FetchCommandTests {
    func kind(_ text: String) -> IMAPCommand.Kind? { try? IMAPCommandParser.parse(Array((text + "\r\n").utf8)).get().kind }
    func set(_ text: String) -> SequenceSet { SequenceSet(parsing: Substring(text))! }

    @Test func macrosExpand() {
        #expect(kind("a FETCH 1:* ALL") == .fetch(set("1:*"), attributes: [.flags, .internalDate, .rfc822Size, .envelope], changedSince: nil, vanished: false, uid: false))
        #expect(kind("a FETCH 1 FAST") == .fetch(set("1"), attributes: [.flags, .internalDate, .rfc822Size], changedSince: nil, vanished: false, uid: false))
        #expect(kind("a FETCH 1 full") == .fetch(set("1"), attributes: [.flags, .internalDate, .rfc822Size, .envelope, .body], changedSince: nil, vanished: false, uid: false))
    }

    @Test func itemsAsClientsWriteThem() {
        let table: [(String, [FetchAttribute])] = [
            ("a UID FETCH 1:* (UID FLAGS)", [.uid, .flags]),
            ("a UID FETCH 1:* (BODYSTRUCTURE ENVELOPE RFC822.SIZE INTERNALDATE)", [.bodyStructure, .envelope, .rfc822Size, .internalDate]),
            ("a UID FETCH 7 BODY.PEEK[]", [.bodySection(.init(), partial: nil, peek: true)]),
            ("a UID FETCH 7 (BODY[HEADER.FIELDS (From To Subject)])", [.bodySection(.init(text: .headerFields(["FROM", "TO", "SUBJECT"])), partial: nil, peek: false)]),
            ("a UID FETCH 7 BODY.PEEK[HEADER.FIELDS.NOT (Received)]", [.bodySection(.init(text: .headerFieldsNot(["RECEIVED"])), partial: nil, peek: true)]),
            ("a UID FETCH 7 BODY[1.2.MIME]", [.bodySection(.init(part: [1, 2], text: .mime), partial: nil, peek: false)]),
            ("a UID FETCH 7 BODY[2.HEADER]", [.bodySection(.init(part: [2], text: .header), partial: nil, peek: false)]),
            ("a UID FETCH 7 BODY[TEXT]<0.2048>", [.bodySection(.init(text: .text), partial: .init(origin: 0, count: 2048), peek: false)]),
            ("a UID FETCH 7 BODY.PEEK[1]<100.50>", [.bodySection(.init(part: [1]), partial: .init(origin: 100, count: 50), peek: true)]),
            ("a UID FETCH 7 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY[2]<0.10>)", [.binary(part: [1], partial: nil, peek: true), .binarySize(part: [1]), .binary(part: [2], partial: .init(origin: 0, count: 10), peek: false)]),
            ("a UID FETCH 7 (RFC822 RFC822.HEADER RFC822.TEXT BODY MODSEQ)", [.rfc822, .rfc822Header, .rfc822Text, .body, .modSeq]),
        ]
        for (text, attributes) in table {
            guard case .fetch(_, let parsed, _, _, true) = kind(text) else {
                Issue.record("\(text) did not parse")
                continue
            }
            #expect(parsed == attributes, "\(text)")
        }
    }

    @Test func changedSinceAddsModSeqAndVanishedNeedsUID() {
        #expect(kind("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)") == .fetch(set("1:*"), attributes: [.flags, .modSeq], changedSince: 12345, vanished: true, uid: true))
        #expect(kind("a FETCH 1:* (FLAGS) (CHANGEDSINCE 5 VANISHED)") == nil)
        #expect(kind("a UID FETCH 1:* (FLAGS) (VANISHED)") == nil)
    }

    @Test func malformedItemsAreBad() {
        for text in ["a FETCH 1 (FLAGS", "a FETCH 1 BODY[HEADER.FIELDS]", "a FETCH 1 BODY[0]", "a FETCH 1 BODY[MIME]", "a FETCH 1 BODY[1]<5>",
            "a FETCH 1 FOO", "a FETCH 1 BODY[TEXT", "a FETCH (FLAGS)", "a FETCH 1  FLAGS"]
        {
            #expect(kind(text) == nil, "\(text)")
        }
    }

    @Test func sectionsWriteBackAsRead() {
        #expect(FetchAttribute.Section(part: [1, 2], text: .headerFields(["FROM", "TO"])).description == "1.2.HEADER.FIELDS (FROM TO)")
        #expect(FetchAttribute.Section(text: .text).description == "TEXT")
        #expect(FetchAttribute.Section(part: [3]).description == "3")
    }
}
