import Foundation
import MailCore
import MailStore
import MailStorePostgres
import Testing

/// The queue, the same on every backend: durable enqueue (one message, or a request's messages
/// all or none under a plan limit), leases that expire, outcomes with their events, bounces and
/// content deletion, retries, removal.
@Suite struct QueueContractTests {
    static func message(
        _ recipients: [String], account: String? = "alice@example.test", at: Int = 100, body: String = "Subject: hello\r\n\r\nthe body\r\n",
        charge: UsageCharge? = nil
    ) throws -> IncomingMessage {
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"),
            recipients: try recipients.map { EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>")) })
        var message = IncomingMessage(
            id: QueueID.make(), envelope: envelope, content: Data(body.utf8), receivedAt: at, clientAddress: "127.0.0.1", heloName: "client.test",
            authenticatedAs: account)
        message.charge = charge
        return message
    }

    static func prepare(_ store: any ContractStore) async throws {
        try await store.addDomain("example.test")
        try await store.addUser(MailUser(address: "alice@example.test", passwordHash: "h", plan: "free", createdAt: 1))
    }

    @Test(arguments: StoreBackend.available)
    func enqueueListShowAndRemove(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            let sent = try Self.message(["r0@dest.test", "r1@dest.test"])
            try await store.enqueue(sent)
            let listed = try await store.listQueue()
            #expect(listed.map(\.id) == [sent.id])
            let shown = try #require(try await store.queuedMessage(id: sent.id))
            #expect(shown.recipients.map(\.address) == ["r0@dest.test", "r1@dest.test"] && shown.recipients.allSatisfy { $0.state == .queued })
            #expect(shown.from.description == "alice@example.test" && shown.authenticatedAs == "alice@example.test" && shown.size == sent.content.count)
            #expect(try await store.content(id: sent.id) == Array(sent.content))
            #expect(try await store.storedContent(id: sent.id) == .whole(Array(sent.content)))
            #expect(try await store.events(messageID: sent.id).map(\.type) == ["queued", "queued"])
            #expect(try await store.pendingRecipients(limit: 10).map(\.recipient) == ["r0@dest.test", "r1@dest.test"])
            #expect(try await store.nextDueTime() == 100)
            #expect(try await store.removeQueued(id: sent.id))
            #expect(try await !store.removeQueued(id: sent.id))
            #expect(try await store.listQueue().isEmpty)
            #expect(try await store.queuedMessage(id: sent.id) == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aRequestOverItsLimitStoresNothing(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            let daily = UsageLimit(period: "d:2026-11-30", limit: 3, perRecipient: true, resetsAt: 0, name: "daily")
            func charged(_ recipients: [String]) throws -> IncomingMessage {
                try Self.message(recipients, charge: UsageCharge(account: "alice@example.test", recipients: recipients.count, limits: [daily]))
            }
            // Two messages of one request, four recipients against a limit of three: neither is stored.
            await #expect(throws: StoreError.limitReached(daily)) {
                try await store.enqueue(group: [try charged(["a@dest.test", "b@dest.test"]), try charged(["c@dest.test", "d@dest.test"])])
            }
            #expect(try await store.listQueue().isEmpty)
            #expect(try store.usage(user: "alice@example.test", periods: [daily.period]) == [daily.period: 0])
            try await store.enqueue(group: [try charged(["a@dest.test"]), try charged(["b@dest.test", "c@dest.test"])])
            #expect(try await store.listQueue().count == 2)
            await #expect(throws: StoreError.limitReached(daily)) { try await store.enqueue(try charged(["e@dest.test"])) }
            #expect(try await store.listQueue().count == 2)
        }
    }

    @Test(arguments: StoreBackend.available)
    func leasesOutcomesBouncesAndRetries(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            let sent = try Self.message(["r0@dest.test", "r1@dest.test"], body: "Subject: kept\r\n\r\nSECRET\r\n")
            try await store.enqueue(sent)
            let leased = try await store.leaseDue(now: 100, leaseUntil: 200, limit: 10)
            #expect(leased.map(\.message.id) == [sent.id] && leased[0].recipients.map(\.position) == [0, 1])
            #expect(leased[0].message.from.description == "alice@example.test")
            // Leased: nobody else takes them until the lease ends; then anyone does.
            #expect(try await store.leaseDue(now: 150, leaseUntil: 250, limit: 10).isEmpty)
            #expect(try await store.nextDueTime() == 200)
            #expect(try await store.leaseDue(now: 200, leaseUntil: 300, limit: 10).first?.recipients.count == 2)

            try await store.record(
                [
                    DeliveryOutcome(
                        messageID: sent.id, position: 0, recipient: "r0@dest.test", state: .delivered, reply: "250 ok", nextAttemptAt: nil,
                        mxHost: "mx.dest.test", tls: "TLSv1.3"),
                    DeliveryOutcome(messageID: sent.id, position: 1, recipient: "r1@dest.test", state: .deferred, reply: "451 later", nextAttemptAt: 400),
                ], bounces: [], at: 210)
            var shown = try #require(try await store.queuedMessage(id: sent.id))
            #expect(shown.recipients.map(\.state) == [.delivered, .deferred] && shown.recipients.map(\.attempts) == [1, 1])
            #expect(shown.recipients[1].nextAttemptAt == 400 && shown.recipients[1].lastReply == "451 later")
            let events = try await store.events(messageID: sent.id)
            #expect(events.map(\.type) == ["queued", "queued", "delivered", "deferred"])
            #expect(events[2].mxHost == "mx.dest.test" && events[2].tls == "TLSv1.3" && events[2].attempt == 1 && events[3].reply == "451 later")
            #expect(try await store.content(id: sent.id) != nil)

            #expect(try await store.retryNow(id: sent.id, at: 220) == 1)
            #expect(try await store.nextDueTime() == 220)
            _ = try await store.leaseDue(now: 220, leaseUntil: 320, limit: 10)
            let bounce = try Self.bounceFor(sent)
            try await store.record(
                [DeliveryOutcome(messageID: sent.id, position: 1, recipient: "r1@dest.test", state: .bounced, reply: "550 5.1.1 no such user", nextAttemptAt: nil)],
                bounces: [bounce], at: 230)
            shown = try #require(try await store.queuedMessage(id: sent.id))
            #expect(shown.recipients.map(\.state) == [.delivered, .bounced] && shown.recipients[1].attempts == 2)
            // Every recipient done: the body is gone; the account's message keeps its header.
            #expect(try await store.content(id: sent.id) == nil)
            #expect(try await store.storedContent(id: sent.id) == .header(Array("Subject: kept\r\n".utf8), deletedAt: 230))
            // The DSN waits in the queue to be delivered to the sender.
            #expect(try await store.queuedMessage(id: bounce.id)?.recipients.map(\.address) == ["alice@example.test"])
            #expect(try await store.pendingRecipients(limit: 10).map(\.recipient) == ["alice@example.test"])

            // Leases this node holds are handed back at its start.
            _ = try await store.leaseDue(now: 230, leaseUntil: 900, limit: 10)
            #expect(try await store.releaseLeases(at: 240) == 1)
            #expect(try await store.nextDueTime() == 240)
        }
    }

    /// A node renews what it is delivering, so its leases never run out under it; the
    /// operator's counts see the queue by state.
    @Test(arguments: StoreBackend.available)
    func leasesAreRenewedAndTheQueueCounted(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            try await store.enqueue(try Self.message(["r0@dest.test", "r1@dest.test"]))
            try await store.enqueue(try Self.message(["r2@dest.test"], at: 500))
            #expect(try await store.activeRecipientCounts() == [.queued: 3, .delivering: 0, .deferred: 0])
            #expect(try await store.leaseDue(now: 100, leaseUntil: 200, limit: 10).first?.recipients.count == 2)
            #expect(try await store.activeRecipientCounts() == [.queued: 1, .delivering: 2, .deferred: 0])
            #expect(try await store.renewLeases(until: 400) == 2)
            // Renewed: not due at the old end, due at the new one.
            #expect(try await store.leaseDue(now: 250, leaseUntil: 600, limit: 10).isEmpty)
            #expect(try await store.nextDueTime() == 400)
            #expect(try await store.renewLeases(until: 300) == 0)
            let storage = try await store.storageSize()
            #expect(storage.bytes > 0 && !storage.location.isEmpty && !storage.location.contains("secret"))
            #expect(try await store.webhookBacklog() == 0)
        }
    }

    static func bounceFor(_ message: IncomingMessage) throws -> IncomingMessage {
        let envelope = Envelope(reversePath: .null, recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<alice@example.test>"))])
        return IncomingMessage(
            id: QueueID.make(), envelope: envelope, content: Data("Subject: Undelivered Mail\r\n\r\nr1 failed\r\n".utf8), receivedAt: 230,
            clientAddress: nil, heloName: nil)
    }
}

/// Two nodes leasing from one queue at once never take the same recipient, and together take
/// them all (`FOR UPDATE SKIP LOCKED`).
@Suite struct TwoNodeQueueTests {
    @Test func concurrentLeasesNeverOverlap() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let first = try #require(store as? PostgresStore)
            try await QueueContractTests.prepare(first)
            let recipients = (0..<200).map { "r\($0)@dest.test" }
            for chunk in stride(from: 0, to: recipients.count, by: 10) {
                try await first.enqueue(try QueueContractTests.message(Array(recipients[chunk..<chunk + 10])))
            }
            let second = try PostgresStore(url: first.url, poolSize: 4, logger: PostgresStore.quietLogger, node: "node-b")
            try await second.running {
                async let a = Self.drain(first)
                async let b = Self.drain(second)
                let (fromA, fromB) = try await (a, b)
                #expect(Set(fromA).isDisjoint(with: fromB), "a recipient was leased by both nodes")
                #expect(fromA.count + fromB.count == 200 && Set(fromA + fromB).count == 200)
            }
        }
    }

    /// Leases five at a time until nothing is due; the addresses taken.
    static func drain(_ store: PostgresStore) async throws -> [String] {
        var taken: [String] = []
        for _ in 0..<200 {
            let leased = try await store.leaseDue(now: 100, leaseUntil: 10_000, limit: 5)
            if leased.isEmpty { break }
            taken += leased.flatMap { $0.recipients.map(\.address) }
        }
        return taken
    }
}
