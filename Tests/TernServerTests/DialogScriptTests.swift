import Foundation
import MailCore
import MailStore
import NIOCore
import NIOEmbedded
import SMTPProtocol
import SMTPServer
import Testing

/// One dialog script of `Tests/Dialogs` (see its README): client lines and expected replies.
struct DialogScript: CustomTestStringConvertible, Sendable {
    enum Step: Sendable {
        case client(String)
        case server(String)
    }

    var name: String
    var steps: [Step]
    var testDescription: String { name }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Dialogs")

    static func all() -> [DialogScript] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".dialog") }.sorted().map { file in
            let text = (try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? ""
            return DialogScript(name: file, text: text)
        }
    }

    init(name: String, text: String) {
        self.name = name
        // "C: text": one space after the colon separates; an empty "C:" is an empty line.
        steps = text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
            if line.hasPrefix("C: ") { return .client(String(line.dropFirst(3))) }
            if line == "C:" { return .client("") }
            if line.hasPrefix("S: ") { return .server(String(line.dropFirst(3))) }
            return nil
        }
    }
}

/// Replays every dialog script against the pure session and the real receiving policy over an
/// in-memory directory: the same scripts `interop/test_dialogs.py` replays against `tern serve`.
@Suite struct DialogScriptTests {
    static let scripts = DialogScript.all()

    @Test func scriptsExist() {
        #expect(Self.scripts.count >= 5)
        #expect(Self.scripts.allSatisfy { !$0.steps.isEmpty })
    }

    @Test(arguments: DialogScriptTests.scripts)
    func replay(_ script: DialogScript) throws {
        let store = FakeStore()
        store.statuses = [
            "alice@example.test": .exists, "bob@example.test": .exists, "nobody@example.test": .unknownUser,
            "postmaster@example.test": .unknownUser,
        ]
        let policy = ReceivingPolicy(hostname: "mx.example.test", directory: store, queue: store, plans: ["free": PlanLimits()], hasFreeSpace: { true })
        let loop = EmbeddedEventLoop()
        let connection = ConnectionInfo(clientAddress: "127.0.0.1", listener: .mx, clientIsTrusted: false)
        var session = SMTPServerSession(configuration: SMTPServerSessionConfiguration(hostname: "mx.example.test", kind: .mx), now: .now())
        var replies: [SMTPReply] = []
        var closed = false

        func perform(_ actions: [SMTPServerSession.Action]) throws {
            for action in actions {
                switch action {
                case .send(let reply): replies.append(reply)
                case .checkSender(let path, let parameters):
                    try perform(session.senderChecked(policy.checkSender(path, parameters, connection: connection, on: loop).wait()))
                case .checkRecipient(let recipient):
                    let answer = try policy.checkRecipient(recipient, accepted: session.acceptedRecipientCount, connection: connection, on: loop).wait()
                    try perform(session.recipientChecked(answer))
                case .store(let envelope, let content, let trace):
                    try perform(session.stored(policy.store(envelope, content: content, trace: trace, connection: connection, on: loop).wait()))
                case .close: closed = true
                case .authenticate, .authenticationResponse, .cancelAuthentication, .startTLS:
                    Issue.record("\(script.name): the MX dialogs use no AUTH or TLS")
                }
            }
        }

        var input = ByteBuffer()
        var expected = 0
        try perform([.send(session.greeting())])
        for step in script.steps {
            switch step {
            case .client(let line):
                input.writeString(line + "\r\n")
            case .server(let pattern):
                if input.readableBytes > 0 {
                    // Everything the client wrote since the last reply, as one pipelined write.
                    var pending = input
                    input = ByteBuffer()
                    var actions = session.receive(&pending, now: .now())
                    while true {
                        try perform(actions)
                        guard pending.readableBytes > 0, !closed else { break }
                        let before = pending.readableBytes
                        actions = session.receive(&pending, now: .now())
                        if pending.readableBytes == before && actions.isEmpty { break }
                    }
                }
                guard expected < replies.count else {
                    Issue.record("\(script.name): expected a reply matching \(pattern), got none")
                    return
                }
                let text = replies[expected].singleLine
                let regex = try Regex(pattern)
                #expect(text.prefixMatch(of: regex) != nil, "\(script.name): reply \(expected + 1) \"\(text)\" does not start with \(pattern)")
                expected += 1
            }
        }
        #expect(expected == replies.count, "\(script.name): unexpected replies \(replies[expected...].map(\.singleLine))")
    }
}
