import Testing

@testable import IMAPProtocol

/// APPEND (RFC 9051 §6.3.12), QUOTA commands (RFC 9208), LIST-EXTENDED and QRESYNC select.
@Suite struct AppendCommandTests {
    func kind(_ text: String) -> IMAPCommand.Kind? { try? IMAPCommandParser.parse(Array((text + "\r\n").utf8)).get().kind }
    func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func append() {
        #expect(kind("a APPEND Drafts (\\Seen \\Draft) \"05-Feb-2024 13:05:00 +0100\" {5}\r\nhello") == .append(mailbox: b("Drafts"), flags: ["\\Seen", "\\Draft"], date: 1_707_134_700, message: b("hello")))
        #expect(kind("a APPEND INBOX {2+}\r\nhi") == .append(mailbox: b("INBOX"), flags: [], date: nil, message: b("hi")))
        #expect(kind("a APPEND INBOX ~{3}\r\na\u{0}b") == .append(mailbox: b("INBOX"), flags: [], date: nil, message: [0x61, 0, 0x62]))
        #expect(kind("a APPEND INBOX UTF8 (~{5+}\r\n\u{e9}t\u{e9})") == .append(mailbox: b("INBOX"), flags: [], date: nil, message: b("\u{e9}t\u{e9}")))
        #expect(kind("a APPEND INBOX UTF8 ~{1}\r\nx") == nil)
        #expect(kind("a APPEND INBOX \"31-Feb-2024\" {1}\r\nx") == nil)
        #expect(kind("a APPEND INBOX \"hello\"") == nil)
    }

    @Test func dates() {
        #expect(IMAPDate.parseDateTime(" 1-Jan-1970 00:00:00 +0000") == 0)
        #expect(IMAPDate.parseDateTime("01-Jan-1970 01:00:00 +0100") == 0)
        #expect(IMAPDate.dateTime(1_707_134_700) == "05-Feb-2024 12:05:00 +0000")
        #expect(IMAPDate.parseDate("29-Feb-2024") == IMAPDate.days(year: 2024, month: 2, day: 29))
        for seconds in [0, 86399, 951_782_400, 1_707_134_700, 4_102_444_800] {
            #expect(IMAPDate.parseDateTime(IMAPDate.dateTime(seconds)) == seconds)
        }
    }

    @Test func quotaCommands() {
        #expect(kind("a GETQUOTAROOT INBOX") == .getQuotaRoot(mailbox: b("INBOX")))
        #expect(kind("a GETQUOTA \"\"") == .getQuota(root: []))
        #expect(kind("a SETQUOTA \"\" (STORAGE 512)") == .setQuota(root: []))
    }

    @Test func listExtended() {
        #expect(kind("a LIST (SUBSCRIBED) \"\" (\"INBOX\" \"Sent\") RETURN (CHILDREN STATUS (MESSAGES UNSEEN))") == .list(IMAPCommand.ListCommand(reference: [], patterns: [b("INBOX"), b("Sent")], selection: ["SUBSCRIBED"], returns: ["CHILDREN"], status: [.messages, .unseen])))
        #expect(kind("a LIST \"\" % RETURN (SPECIAL-USE)") == .list(IMAPCommand.ListCommand(reference: [], patterns: [b("%")], returns: ["SPECIAL-USE"])))
        #expect(kind("a LIST \"\" % RETURN") == nil)
    }

    @Test func selectWithQResync() {
        let parsed = kind("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))")
        guard case .select(_, let parameters)? = parsed, let q = parameters.qresync else {
            Issue.record("not parsed")
            return
        }
        #expect(q.uidValidity == 67_890_007 && q.modSeq == 20_050_715_194_045_000 && q.knownUIDs?.description == "41,43:211,214:541")
        let withMatch = kind("a SELECT INBOX (QRESYNC (1 2 1:10 (1:3 4:6)) CONDSTORE)")
        guard case .select(_, let p2)? = withMatch else {
            Issue.record("not parsed")
            return
        }
        #expect(p2.condstore && p2.qresync?.sequenceMatch?.uids.description == "4:6")
        #expect(kind("a SELECT INBOX (QRESYNC (0 2))") == nil)
    }
}
