import Foundation
import IMAPServer
import MailService
import MailStore
import MailStoreSQLite
import Synchronization

/// Records what a session writes and tells the harness when each command is finished.
final class RecordingTransport: IMAPTransport {
    let output = Mutex<[UInt8]>([])
    let finished: AsyncStream<Void>
    let finish: AsyncStream<Void>.Continuation
    let tlsStarted = Atomic<Bool>(false)
    let closed = Atomic<Bool>(false)

    init() {
        (finished, finish) = AsyncStream<Void>.makeStream()
    }

    func send(_ bytes: [UInt8]) async { output.withLock { $0 += bytes } }
    func startTLS(after reply: [UInt8]) async -> Bool {
        output.withLock { $0 += reply }
        tlsStarted.store(true, ordering: .relaxed)
        return true
    }
    func close() async {
        closed.store(true, ordering: .relaxed)
        finish.yield()
    }
    func commandFinished() { finish.yield() }
    func authenticated() {}

    func take() -> String { output.withLock { bytes in defer { bytes = [] }; return String(decoding: bytes, as: UTF8.self) } }
}

/// A session over a real SQLite store with alice@example.test (password "pw-123456"),
/// driven command by command: `send` returns everything the session wrote for it.
final class IMAPHarness {
    let store: SQLiteStore
    let admin: Administration
    let transport = RecordingTransport()
    let input: AsyncStream<IMAPSessionInput>.Continuation
    var finished: AsyncStream<Void>.Iterator
    let task: Task<Void, Never>
    let greeting: String

    static func make(
        tls: Bool = true, allowPlaintext: Bool = false, store existing: SQLiteStore? = nil, limits: AbuseLimits = AbuseLimits(),
        autologout: Duration = .seconds(1800), idleKeepalive: Duration = .seconds(120)
    ) async throws -> IMAPHarness {
        let store: SQLiteStore
        let admin: Administration
        if let existing {
            store = existing
            admin = Administration(store: store, hostname: "mx.example.test", planNames: ["free"], keepsCRAMSecrets: false)
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-imap-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteStore(path: directory.appendingPathComponent("tern.sqlite").path)
            admin = Administration(store: store, hostname: "mx.example.test", planNames: ["free"], keepsCRAMSecrets: false)
            _ = try await admin.addDomain("example.test", dkim: .ed25519)
            _ = try await admin.addUser("alice@example.test", password: "pw-123456")
        }
        return await IMAPHarness(
            store: store, admin: admin, tls: tls, allowPlaintext: allowPlaintext, limits: limits, autologout: autologout, idleKeepalive: idleKeepalive)
    }

    private init(
        store: SQLiteStore, admin: Administration, tls: Bool, allowPlaintext: Bool, limits: AbuseLimits, autologout: Duration, idleKeepalive: Duration
    ) async {
        self.store = store
        self.admin = admin
        let (stream, continuation) = AsyncStream<IMAPSessionInput>.makeStream()
        input = continuation
        // The session's timer ticks at the keep-alive interval (hourly unless a test shortens it).
        let settings = IMAPSessionSettings(
            hostname: "mx.example.test", allowPlaintext: allowPlaintext, maximumMessageSize: 100_000, autologout: autologout,
            idleKeepalive: idleKeepalive, pollInterval: .seconds(3600))
        let session = IMAPSession(
            settings: settings, transport: transport, mailboxes: store, authenticator: AccountAuthenticator(directory: store), limits: limits,
            client: "192.0.2.1", structures: MessageStructureCache(), tlsActive: tls, tlsAvailable: true, wakeUp: { continuation.yield($0) })
        task = Task { await session.run(stream) }
        finished = transport.finished.makeAsyncIterator()
        // The greeting is written before the first command; wait for it.
        while transport.output.withLock({ $0.isEmpty }) { try? await Task.sleep(for: .milliseconds(1)) }
        greeting = transport.take()
    }

    /// One command (CRLF added); waits until the session has finished it.
    func send(_ command: String) async -> String {
        input.yield(.command(Array((command + "\r\n").utf8)))
        _ = await finished.next()
        return transport.take()
    }

    /// A continuation line (SASL response, IDLE's DONE); returns once the session has read it.
    func line(_ text: String) async {
        input.yield(.command(Array((text + "\r\n").utf8)))
        _ = await finished.next()
    }

    func event(_ event: IMAPSessionInput) { input.yield(event) }

    /// Output so far, without waiting for a command to finish (IDLE, continuations).
    func waitFor(_ text: String, timeout: Duration = .seconds(5)) async -> String {
        let deadline = ContinuousClock.now + timeout
        var seen = ""
        while ContinuousClock.now < deadline {
            seen += transport.take()
            if seen.contains(text) { return seen }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return seen
    }

    func finishCommand() async -> String {
        _ = await finished.next()
        return transport.take()
    }

    /// APPEND with the literal's length counted.
    func append(_ tag: String, _ mailbox: String, flags: String = "", _ message: String) async -> String {
        await send("\(tag) APPEND \(mailbox) \(flags.isEmpty ? "" : flags + " "){\(message.utf8.count)+}\r\n\(message)")
    }

    func loggedIn() async -> IMAPHarness {
        _ = await send("L LOGIN alice@example.test pw-123456")
        return self
    }

    func stop() {
        input.yield(.closed)
        input.finish()
    }
}
