import Crypto
import Foundation
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import Testing

/// The dispatcher over a real store and a scripted transport: batching, the cursor that moves
/// only on 2xx, retries with doubling delays, giving up after the retention, filtering and
/// signing.
@Suite struct WebhookDispatcherTests {
    final class Transport: WebhookTransport, @unchecked Sendable {
        let lock = NSLock()
        var posts: [(body: [UInt8], headers: [(name: String, value: String)])] = []
        var answers: [WebhookPostResult] = []

        func post(url: String, body: [UInt8], headers: [(name: String, value: String)]) async -> WebhookPostResult {
            lock.withLock {
                posts.append((body, headers))
                return answers.isEmpty ? .answered(status: 200) : answers.removeFirst()
            }
        }

        var count: Int { lock.withLock { posts.count } }

        /// Every event of every post, in order.
        var events: [[String: Any]] {
            lock.withLock { posts.flatMap { (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [[String: Any]]) ?? [] } }
        }
    }

    final class Clock: @unchecked Sendable {
        let lock = NSLock()
        var now = 1_796_000_000
        func advance(_ seconds: Int) { lock.withLock { now += seconds } }
        func read() -> Int { lock.withLock { now } }
    }

    struct Fixture {
        let store: SQLiteStore
        let transport: Transport
        let clock: Clock
        let dispatcher: WebhookDispatcher
        let key: String?

        func send(to recipients: [String], tags: MessageTags = MessageTags()) async throws -> String {
            let envelope = Envelope(
                reversePath: try ReversePath(parsing: "<alice@example.test>"),
                recipients: try recipients.map { EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>")) })
            var message = IncomingMessage(
                id: QueueID.make(), envelope: envelope, content: Data("From: alice@example.test\r\nSubject: s\r\nMessage-ID: <m@x>\r\n\r\nb\r\n".utf8),
                receivedAt: clock.read(), clientAddress: "127.0.0.1", heloName: nil, authenticatedAs: "alice@example.test")
            message.tags = tags
            try await store.enqueue(message)
            return message.id
        }

        func outcome(_ id: String, position: Int, _ state: RecipientState, _ reply: String) async throws {
            try await store.record(
                [DeliveryOutcome(messageID: id, position: position, recipient: "r\(position)@dest.test", state: state, reply: reply, nextAttemptAt: nil)],
                bounces: [], at: clock.read())
        }
    }

    func fresh(events: Set<String> = ["processed", "delivered", "deferred", "bounce"], signed: Bool = false) async throws -> Fixture {
        let account = try await HostedAccount(prefix: "hooks")
        let store = account.store
        let transport = Transport()
        let clock = Clock()
        let key = signed ? WebhookSignature.makeKey() : nil
        try await store.addWebhook(
            EventWebhook(
                id: "w1", account: "alice@example.test", url: "http://127.0.0.1:9/hook", enabled: true, events: events, signingKey: key,
                createdAt: clock.now, updatedAt: clock.now, cursor: try await store.lastEventID()))
        let dispatcher = WebhookDispatcher(
            store: store, transport: transport, settings: WebhookDispatcher.Settings(batchDelay: 5, retryDelay: 5, retention: 86400),
            clock: { clock.read() })
        return Fixture(store: store, transport: transport, clock: clock, dispatcher: dispatcher, key: key)
    }

    @Test func eventsWaitForTheBatchDelayThenGoInOrder() async throws {
        let f = try await fresh()
        let id = try await f.send(to: ["r0@dest.test", "r1@dest.test"], tags: MessageTags(categories: ["c"], customArgs: ["u": "1"]))
        await f.dispatcher.runOnce()
        #expect(f.transport.count == 0)  // younger than the batch delay
        f.clock.advance(2)
        try await f.outcome(id, position: 0, .deferred, "451 4.3.2 later")
        f.clock.advance(3)
        await f.dispatcher.runOnce()
        #expect(f.transport.count == 1)
        let events = f.transport.events
        #expect(events.map { $0["event"] as? String } == ["processed", "processed", "deferred"])
        #expect(events.map { $0["email"] as? String } == ["r0@dest.test", "r1@dest.test", "r0@dest.test"])
        #expect(events[0]["u"] as? String == "1" && events[0]["category"] as? String == "c")
        #expect(events[2]["attempt"] as? String == "1")
        // Nothing new: nothing sent again.
        f.clock.advance(60)
        await f.dispatcher.runOnce()
        #expect(f.transport.count == 1)
        try await f.outcome(id, position: 0, .delivered, "250 2.0.0 ok")
        f.clock.advance(5)
        await f.dispatcher.runOnce()
        #expect(f.transport.events.map { $0["event"] as? String }.last == "delivered")
        #expect(f.transport.count == 2)
    }

    @Test func aFailingReceiverGetsEverythingLaterWithDoublingDelays() async throws {
        let f = try await fresh()
        f.transport.answers = [.answered(status: 500), .failed("connection refused"), .answered(status: 503)]
        _ = try await f.send(to: ["r0@dest.test"])
        f.clock.advance(5)
        await f.dispatcher.runOnce()  // fails: retry in 5 s
        #expect(try await f.store.webhook(id: "w1")?.failures == 1)
        f.clock.advance(4)
        await f.dispatcher.runOnce()
        #expect(f.transport.count == 1)  // not due yet
        f.clock.advance(1)
        await f.dispatcher.runOnce()  // fails: retry in 10 s
        let second = try #require(try await f.store.webhook(id: "w1"))
        #expect(second.failures == 2 && second.nextAttemptAt == f.clock.read() + 10)
        _ = try await f.send(to: ["r1@dest.test"])
        f.clock.advance(10)
        await f.dispatcher.runOnce()  // fails: retry in 20 s
        f.clock.advance(20)
        await f.dispatcher.runOnce()  // delivered: both events, at least once
        #expect(f.transport.count == 4)
        let last = try JSONSerialization.jsonObject(with: Data(f.transport.posts[3].body)) as? [[String: Any]]
        #expect(last?.map { $0["email"] as? String } == ["r0@dest.test", "r1@dest.test"])
        // Every attempt carried the same events with the same ids.
        let first = try JSONSerialization.jsonObject(with: Data(f.transport.posts[0].body)) as? [[String: Any]]
        #expect(first?[0]["sg_event_id"] as? String == last?[0]["sg_event_id"] as? String)
        #expect(try await f.store.webhook(id: "w1")?.failures == 0)
        // The webhook's log, newest first: each post with its answer and which retry it was.
        let log = try await f.store.webhookAttempts(webhookID: "w1", limit: 10)
        #expect(log.map(\.outcome) == [.delivered, .failed, .failed, .failed])
        #expect(log.map(\.status) == [200, 503, nil, 500])
        #expect(log.map(\.error) == [nil, nil, "connection refused", nil])
        #expect(log.map(\.retry) == [3, 2, 1, 0] && log.map(\.events) == [2, 2, 1, 1])
    }

    @Test func eventsOlderThanTheRetentionAreGivenUp() async throws {
        let f = try await fresh()
        f.transport.answers = Array(repeating: .answered(status: 500), count: 1000)
        _ = try await f.send(to: ["r0@dest.test"])
        for _ in 0..<400 {
            f.clock.advance(600)
            await f.dispatcher.runOnce()
            if f.clock.read() > 1_796_000_000 + 86400 + 1200 { break }
        }
        let webhook = try #require(try await f.store.webhook(id: "w1"))
        let last = try await f.store.lastEventID()
        #expect(webhook.failures == 0 && webhook.cursor == last)
        // More posts than the log keeps: it holds the newest, the give-up first.
        #expect(f.transport.count > WebhookAttempt.kept)
        let log = try await f.store.webhookAttempts(webhookID: "w1", limit: 1000)
        #expect(log.count == WebhookAttempt.kept && log.first?.outcome == .gaveUp && log.dropFirst().allSatisfy { $0.outcome == .failed })
        let attempts = f.transport.count
        f.clock.advance(600)
        await f.dispatcher.runOnce()
        #expect(f.transport.count == attempts)
    }

    @Test func onlyChosenEventsAndOnlyTheAccountsOwn() async throws {
        let f = try await fresh(events: ["delivered"])
        let id = try await f.send(to: ["r0@dest.test"])
        try await f.outcome(id, position: 0, .delivered, "250 ok")
        f.clock.advance(5)
        await f.dispatcher.runOnce()
        #expect(f.transport.events.map { $0["event"] as? String } == ["delivered"])
    }

    @Test func signedBatchesVerifyWithThePublishedKey() async throws {
        let f = try await fresh(signed: true)
        _ = try await f.send(to: ["r0@dest.test"])
        f.clock.advance(5)
        await f.dispatcher.runOnce()
        let post = try #require(f.transport.posts.first)
        let signature = try #require(post.headers.first { $0.name == WebhookSignature.signatureHeader }?.value)
        let timestamp = try #require(post.headers.first { $0.name == WebhookSignature.timestampHeader }?.value)
        let publicKey = try P256.Signing.PublicKey(derRepresentation: Data(base64Encoded: try #require(WebhookSignature.publicKey(of: f.key!)))!)
        let ecdsa = try P256.Signing.ECDSASignature(derRepresentation: Data(base64Encoded: signature)!)
        #expect(publicKey.isValidSignature(ecdsa, for: Data(timestamp.utf8) + Data(post.body)))
        // One byte changed in the body: the signature no longer holds.
        var tampered = post.body
        tampered[1] ^= 1
        #expect(!publicKey.isValidSignature(ecdsa, for: Data(timestamp.utf8) + Data(tampered)))
    }

    /// A vector made with Python's `cryptography` (the library SendGrid's Python verifier uses):
    /// the private scalar 0x0102…20 gives this SubjectPublicKeyInfo, and a signature made there
    /// over timestamp + body verifies against the bytes Tern signs.
    @Test func signatureTestVector() throws {
        let stored = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
        let expectedPublic =
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUVw9brnjlrkE0/7Kf1T9zQzB6Ze/N13KUVrQpsO0A19FNr46UPMY+/mlR1kCoiFQK+8NV+CMU7LMClbxfZ+TVA=="
        #expect(WebhookSignature.publicKey(of: stored) == expectedPublic)
        let body = Array(#"[{"email":"example@test.com","event":"processed","sg_event_id":"tern-1","sg_message_id":"X.0","timestamp":1796000000}]"#.utf8)
        let python = "MEUCIQCyRxNetMEEyJk+fiLWh3qT0mCLDcaBkPHnY23vvCQjTgIgW0GewabB+ywgYtNH8ZjOmmZpnU7Xip0g6YjvkDEklCo="
        let publicKey = try P256.Signing.PublicKey(derRepresentation: Data(base64Encoded: expectedPublic)!)
        let signed = WebhookSignature.signedBytes(body: body, timestamp: "1796000000")
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: Data(base64Encoded: python)!), for: signed))
        #expect(!publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: Data(base64Encoded: python)!), for: signed.dropFirst()))
        // Tern's own signature of the same bytes verifies with the same public key.
        let ours = try #require(WebhookSignature.sign(body: body, timestamp: "1796000000", key: stored))
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: Data(base64Encoded: ours)!), for: signed))
    }
}
