import Testing

@testable import IMAPProtocol

/// The commands read so far, each as clients write it, and the malformed forms that get `BAD`.
@Suite struct IMAPCommandParserTests {
    func parse(_ text: String) -> Result<IMAPCommand, IMAPParseError> { IMAPCommandParser.parse(Array(text.utf8)) }
    func b(_ text: String) -> [UInt8] { Array(text.utf8) }
    func set(_ text: String) -> SequenceSet { SequenceSet(parsing: Substring(text))! }

    @Test func commandsAsClientsWriteThem() {
        let table: [(String, IMAPCommand.Kind)] = [
            ("a CAPABILITY", .capability), ("a noop", .noop), ("a LOGOUT", .logout), ("a STARTTLS", .startTLS),
            ("a AUTHENTICATE PLAIN", .authenticate(mechanism: "PLAIN", initialResponse: nil)),
            ("a AUTHENTICATE plain AGFsaWNlAHNlY3JldA==", .authenticate(mechanism: "PLAIN", initialResponse: b("AGFsaWNlAHNlY3JldA=="))),
            ("a AUTHENTICATE SCRAM-SHA-256 =", .authenticate(mechanism: "SCRAM-SHA-256", initialResponse: [])),
            ("a LOGIN alice \"s3cr\\\"et\"", .login(username: b("alice"), password: b("s3cr\"et"))),
            ("a LOGIN {5}\r\nalice {6}\r\nsecret", .login(username: b("alice"), password: b("secret"))),
            ("a ENABLE CONDSTORE UTF8=ACCEPT", .enable(["CONDSTORE", "UTF8=ACCEPT"])),
            ("a SELECT INBOX", .select(mailbox: b("INBOX"), IMAPCommand.SelectParameters())),
            ("a SELECT \"Sent Items\" (CONDSTORE)", .select(mailbox: b("Sent Items"), IMAPCommand.SelectParameters(condstore: true))),
            ("a EXAMINE Entw&APw-rfe", .examine(mailbox: b("Entw&APw-rfe"), IMAPCommand.SelectParameters())),
            ("a CREATE Archive/2026", .create(mailbox: b("Archive/2026"))), ("a DELETE Old", .delete(mailbox: b("Old"))),
            ("a RENAME Old New", .rename(from: b("Old"), to: b("New"))),
            ("a SUBSCRIBE Lists", .subscribe(mailbox: b("Lists"))), ("a UNSUBSCRIBE Lists", .unsubscribe(mailbox: b("Lists"))),
            ("a LIST \"\" *", .list(IMAPCommand.ListCommand(reference: b(""), patterns: [b("*")]))), ("a LIST \"\" %/%", .list(IMAPCommand.ListCommand(reference: b(""), patterns: [b("%/%")]))),
            ("a LSUB \"\" \"*\"", .lsub(reference: b(""), pattern: b("*"))), ("a NAMESPACE", .namespace),
            ("a STATUS INBOX (MESSAGES UIDNEXT unseen SIZE)", .status(mailbox: b("INBOX"), items: [.messages, .uidNext, .unseen, .size])),
            ("a IDLE", .idle), ("a CHECK", .check), ("a CLOSE", .close), ("a UNSELECT", .unselect), ("a EXPUNGE", .expunge),
            ("a UID EXPUNGE 3:5,9", .uidExpunge(set("3:5,9"))),
            ("a COPY 1:* Archive", .copy(set("1:*"), mailbox: b("Archive"), uid: false)),
            ("a UID MOVE 42 Trash", .move(set("42"), mailbox: b("Trash"), uid: true)),
            ("a uid copy $ Saved", .copy(.savedResult, mailbox: b("Saved"), uid: true)),
            ("a ID NIL", .id(nil)),
            ("a ID (\"name\" \"Thunderbird\" \"version\" NIL)", .id([.init(name: b("name"), value: b("Thunderbird")), .init(name: b("version"), value: nil)])),
        ]
        for (text, kind) in table {
            let parsed = try? parse(text + "\r\n").get()
            #expect(parsed == IMAPCommand(tag: "a", kind: kind), "\(text)")
        }
    }

    @Test(arguments: [
        "a NOOP extra", "a  NOOP", "a NOOP\n", "a SELECT", "a SELECT INBOX (QRESYNC)", "a LOGIN alice", "a STATUS INBOX (FOO)",
        "a STATUS INBOX ()", "a UID FOO 1 FLAGS", "a COPY 0 X", "a FROB", "a ID (\"name\")", "a ENABLE", "a AUTHENTICATE PLAIN ab!c",
        "a RENAME Old",
    ])
    func malformedCommandsAreBadWithTheirTag(text: String) {
        guard case .failure(let error) = parse(text.hasSuffix("\n") ? text : text + "\r\n") else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(error.tag == "a", "\(text)")
        #expect(error.message.hasPrefix("Expected"), "\(text): \(error.message)")
    }

    @Test func startTLSIsRecognisedWithoutParsingEveryCommand() {
        #expect(IMAPCommandParser.isStartTLS(Array("a1 STARTTLS\r\n".utf8)))
        #expect(IMAPCommandParser.isStartTLS(Array("x starttls\r\n".utf8)))
        #expect(!IMAPCommandParser.isStartTLS(Array("a1 NOOP\r\n".utf8)))
        #expect(!IMAPCommandParser.isStartTLS(Array("a1 SELECT STARTTLS\r\n".utf8)))
        #expect(!IMAPCommandParser.isStartTLS(Array("a1 STARTTLS extra\r\n".utf8)))
    }

    @Test func withoutATagThereIsNoTagToAnswer() {
        guard case .failure(let error) = parse("* NOOP\r\n") else {
            Issue.record("accepted")
            return
        }
        #expect(error.tag == nil)
    }

    @Test func framedCommandsParse() {
        // What the framer delivers is what the parser reads, literals included.
        var framer = IMAPCommandFramer()
        let events = framer.append(Array("t1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\nt2 SELECT INBOX\r\n".utf8))
        let commands = events.compactMap { event -> IMAPCommand? in
            guard case .command(let bytes) = event else { return nil }
            return try? IMAPCommandParser.parse(bytes).get()
        }
        #expect(commands == [
            IMAPCommand(tag: "t1", kind: .login(username: b("alice"), password: b("secret"))),
            IMAPCommand(tag: "t2", kind: .select(mailbox: b("INBOX"), IMAPCommand.SelectParameters())),
        ])
    }
}
