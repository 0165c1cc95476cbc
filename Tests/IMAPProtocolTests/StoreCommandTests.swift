import Testing

@testable import IMAPProtocol

/// STORE and UID STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3).
@Suite struct StoreCommandTests {
    func kind(_ text: String) -> IMAPCommand.Kind? { try? IMAPCommandParser.parse(Array((text + "\r\n").utf8)).get().kind }
    func set(_ text: String) -> SequenceSet { SequenceSet(parsing: Substring(text))! }

    @Test func forms() {
        #expect(kind("a STORE 1:3 +FLAGS (\\Seen \\Flagged)") == .store(set("1:3"), .init(operation: .add, silent: false, flags: ["\\Seen", "\\Flagged"]), unchangedSince: nil, uid: false))
        #expect(kind("a UID STORE 5 -FLAGS.SILENT (\\Deleted)") == .store(set("5"), .init(operation: .remove, silent: true, flags: ["\\Deleted"]), unchangedSince: nil, uid: true))
        #expect(kind("a STORE 2 FLAGS ()") == .store(set("2"), .init(operation: .replace, silent: false, flags: []), unchangedSince: nil, uid: false))
        #expect(kind("a STORE 2 +FLAGS \\Seen $Label1") == .store(set("2"), .init(operation: .add, silent: false, flags: ["\\Seen", "$Label1"]), unchangedSince: nil, uid: false))
        #expect(kind("a UID STORE 1:* (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Seen)") == .store(set("1:*"), .init(operation: .add, silent: true, flags: ["\\Seen"]), unchangedSince: 320_162_338, uid: true))
    }

    @Test func malformed() {
        for text in ["a STORE 1 FLAGS", "a STORE 1 +FLAGZ (\\Seen)", "a STORE 1 (UNCHANGEDSINCE) FLAGS ()", "a STORE +FLAGS (\\Seen)", "a STORE 1 FLAGS (\\Seen"] {
            #expect(kind(text) == nil, "\(text)")
        }
    }
}
