import Foundation
import MailCore
import MailStore
import MailStorePostgres
import Testing

/// What the activity API, stats, tracking, the sandbox inbox and webhooks read from the queue's
/// rows: the same on every backend.
@Suite struct ActivityContractTests {
    static let day = 1_796_000_000 / 86400 * 86400

    @Test(arguments: StoreBackend.available)
    func activityStatsAndTracking(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await QueueContractTests.prepare(store)
            var first = try QueueContractTests.message(["a@dest.test", "b@dest.test"], at: Self.day + 10, body: "Message-ID: <m1@x>\r\nSubject: one\r\n\r\nx\r\n")
            first.tags = MessageTags(categories: ["news"], customArgs: ["order": "7"])
            first.request = SendRequestReference(requestID: "REQ1", firstRecipient: 0)
            var second = try QueueContractTests.message(["c@dest.test"], at: Self.day + 86400 + 5, body: "Subject: two\r\n\r\ny\r\n")
            second.request = SendRequestReference(requestID: "REQ1", firstRecipient: 2)
            let other = try QueueContractTests.message(["z@dest.test"], account: nil, at: Self.day + 20)
            for message in [first, second, other] { try await store.enqueue(message) }
            try await store.record(
                [DeliveryOutcome(messageID: first.id, position: 1, recipient: "b@dest.test", state: .bounced, reply: "550 5.1.1 unknown", nextAttemptAt: nil)],
                bounces: [], at: Self.day + 30)

            let all = try await store.activity(account: "alice@example.test", filter: ActivityFilter(), limit: 10)
            #expect(all.map(\.to) == ["c@dest.test", "a@dest.test", "b@dest.test"])
            #expect(all.map(\.sgMessageID) == ["REQ1.2", "REQ1.0", "REQ1.1"])
            #expect(all[1].subject == "one" && all[1].tags.categories == ["news"] && all[1].tags.customArgs == ["order": "7"])
            #expect(all[2].state == .bounced && all[2].lastEventAt == Self.day + 30)
            #expect(try await store.activity(account: "alice@example.test", filter: ActivityFilter(to: "B@dest.test"), limit: 10).map(\.to) == ["b@dest.test"])
            #expect(try await store.activity(account: "alice@example.test", filter: ActivityFilter(states: [.queued]), limit: 10).count == 2)
            #expect(try await store.activity(account: "alice@example.test", filter: ActivityFilter(category: "news"), limit: 10).count == 2)
            #expect(try await store.activity(account: "alice@example.test", filter: ActivityFilter(acceptedFrom: Self.day + 86400), limit: 10).count == 1)
            #expect(try await store.activity(account: "alice@example.test", filter: ActivityFilter(sgMessageID: "REQ1.1"), limit: 10).count == 1)

            let (row, events) = try #require(try await store.activity(account: "alice@example.test", sgMessageID: "REQ1.1"))
            #expect(row.to == "b@dest.test" && events.map(\.type) == ["queued", "bounced"])
            #expect(try await store.activity(account: "bob@example.test", sgMessageID: "REQ1.1") == nil)

            // Tracking: the recipient a token names, opens and clicks, and the stats they make.
            let tracked = try #require(try await store.trackedRecipient(sgMessageID: "REQ1.0"))
            #expect(tracked.queueID == first.id && tracked.address == "a@dest.test" && tracked.account == "alice@example.test")
            try await store.recordEngagement("open", for: tracked, at: Self.day + 40, details: #"{"useragent":"x"}"#)
            try await store.recordEngagement("open", for: tracked, at: Self.day + 41, details: #"{"sg_machine_open":true}"#)
            try await store.recordEngagement("click", for: tracked, at: Self.day + 42, details: nil)
            #expect(try await store.activity(account: "alice@example.test", filter: ActivityFilter(to: "a@dest.test"), limit: 1).first?.opens == 2)
            #expect(try await store.reportedRecipient(messageIDHeader: "m1@x", address: "A@dest.test")?.position == 0)
            #expect(try await store.reportedRecipient(messageIDHeader: "<m1@x>", address: nil) == nil)  // two recipients: ambiguous

            let days = try await store.dailyEvents(account: "alice@example.test", from: Self.day, to: Self.day + 2 * 86400, category: nil)
            #expect(days.map(\.day) == [Self.day, Self.day + 86400])
            #expect(days[0].counts == ["queued": 2, "bounced": 1, "open": 2, "click": 1])
            #expect(days[0].bounceReplies == ["550 5.1.1 unknown"] && days[0].uniqueCounts == ["open": 1, "click": 1])
            #expect(days[1].counts == ["queued": 1])
            let news = try await store.dailyEvents(account: "alice@example.test", from: Self.day, to: Self.day + 2 * 86400, category: "news")
            #expect(news.map(\.day) == [Self.day])

            // Tracking secrets and an account's tracking defaults.
            let key = try await store.trackingKey()
            #expect(key.count == 32)
            #expect(try await store.trackingKey() == key)
            #expect(try store.trackingSettings(account: "alice@example.test") == nil)
            try await store.setTrackingSettings(account: "alice@example.test", json: #"{"open":true}"#)
            #expect(try store.trackingSettings(account: "alice@example.test") == #"{"open":true}"#)
        }
    }

    @Test(arguments: StoreBackend.available)
    func sandboxInbox(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await QueueContractTests.prepare(store)
            #expect(try !store.isSandboxed(user: "alice@example.test"))
            try await store.setSandboxed(user: "alice@example.test", true)
            #expect(try store.isSandboxed(user: "ALICE@example.test"))
            await #expect(throws: StoreError.self) { try await store.setSandboxed(user: "nobody@example.test", true) }
            var kept = try QueueContractTests.message(["x@dest.test", "y@dest.test"], body: "Subject: captured\r\n\r\nbody\r\n")
            kept.sandbox = true
            try await store.enqueue(kept)
            let inbox = try await store.sandboxMessages(account: "alice@example.test", limit: 10)
            #expect(inbox.map(\.id) == [kept.id] && inbox[0].recipients == ["x@dest.test", "y@dest.test"] && inbox[0].subject == "captured")
            #expect(try await store.sandboxContent(account: "alice@example.test", id: kept.id) == Array(kept.content))
            #expect(try await store.sandboxContent(account: "bob@example.test", id: kept.id) == nil)
            // Final at once, never leased for delivery.
            #expect(try await store.queuedMessage(id: kept.id)?.recipients.map(\.state) == [.delivered, .delivered])
            #expect(try await store.leaseDue(now: 10_000_000_000, leaseUntil: 10_000_000_100, limit: 10).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func webhookOutbox(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await QueueContractTests.prepare(store)
            try await store.enqueue(try QueueContractTests.message(["before@dest.test"]))
            let start = try await store.lastEventID()
            let hook = EventWebhook(
                id: "w1", account: "alice@example.test", url: "https://hooks.example.test/in", enabled: true, events: ["processed", "delivered"],
                createdAt: 1, updatedAt: 1, cursor: start)
            try await store.addWebhook(hook)
            #expect(try await store.webhooks(account: "alice@example.test") == [hook])
            #expect(try await store.webhook(id: "w1") == hook)
            let sent = try QueueContractTests.message(["r0@dest.test", "r1@dest.test"])
            try await store.enqueue(sent)
            try await store.enqueue(try QueueContractTests.message(["elsewhere@dest.test"], account: nil))
            // PostgreSQL hands out events only once every transaction that began before them has
            // ended (cluster-wide, so other tests' transactions can hold them back a moment).
            var events: [AccountEvent] = []
            for _ in 0..<100 {
                events = try await store.events(account: "alice@example.test", after: start, limit: 10)
                if events.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(events.map(\.event.recipient) == ["r0@dest.test", "r1@dest.test"] && events.allSatisfy { $0.event.type == "queued" })
            #expect(events[0].recipient.queueID == sent.id && events[1].recipient.position == 1)
            #expect(try await store.events(account: "alice@example.test", after: events[0].event.id, limit: 10).count == 1)

            #expect(try await store.dueWebhooks(now: 5).map(\.id) == ["w1"])
            try await store.recordWebhookDelivery(
                id: "w1", cursor: events[1].event.id, failures: 0, nextAttemptAt: 0,
                attempt: WebhookAttempt(webhookID: "w1", at: 5, outcome: .delivered, events: 2, status: 200, error: nil, retry: 0, milliseconds: 3))
            try await store.recordWebhookDelivery(id: "w1", cursor: events[0].event.id, failures: 1, nextAttemptAt: 60, attempt: nil)
            let moved = try #require(try await store.webhook(id: "w1"))
            #expect(moved.cursor == events[1].event.id && moved.failures == 1 && moved.nextAttemptAt == 60)
            #expect(try await store.dueWebhooks(now: 59).isEmpty)
            try await store.recordWebhookAttempt(WebhookAttempt(webhookID: "w1", at: 6, outcome: .test, events: 1, status: 503, error: nil, retry: 0, milliseconds: 1))
            #expect(try await store.webhookAttempts(webhookID: "w1", limit: 10).map(\.status) == [503, 200])

            var changed = moved
            changed.url = "https://other.example.test/in"
            changed.events = ["bounce"]
            #expect(try await store.updateWebhookSettings(changed))
            let reset = try #require(try await store.webhook(id: "w1"))
            #expect(reset.events == ["bounce"] && reset.failures == 0 && reset.nextAttemptAt == 0 && reset.cursor == moved.cursor)
            #expect(try await store.removeWebhook(id: "w1"))
            #expect(try await store.webhookAttempts(webhookID: "w1", limit: 10).isEmpty)
            #expect(try await !store.removeWebhook(id: "w1"))
        }
    }
}

/// Several nodes share a webhook's outbox: a due webhook is claimed by one node at a time, and
/// a claim released without a post makes it due again at once.
@Suite struct TwoNodeWebhookTests {
    @Test func aDueWebhookIsClaimedByOneNode() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let first = try #require(store as? PostgresStore)
            try await QueueContractTests.prepare(first)
            try await first.addWebhook(
                EventWebhook(id: "w1", account: "alice@example.test", url: "https://h.test/", enabled: true, events: ["processed"], createdAt: 1, updatedAt: 1, cursor: 0))
            let second = try PostgresStore(url: first.url, poolSize: 3, logger: PostgresStore.quietLogger, node: "node-b")
            try await second.running {
                async let a = first.dueWebhooks(now: 100)
                async let b = second.dueWebhooks(now: 100)
                let (fromA, fromB) = try await (a, b)
                #expect(fromA.count + fromB.count == 1, "both nodes claimed the webhook")
                #expect(try await first.dueWebhooks(now: 120).isEmpty)
                try await first.releaseWebhook(id: "w1", nextAttemptAt: 0)
                #expect(try await second.dueWebhooks(now: 121).map(\.id) == ["w1"])
                // A node that died mid-post: its claim runs out and another node takes over.
                #expect(try await first.dueWebhooks(now: 121 + 59).isEmpty)
                #expect(try await first.dueWebhooks(now: 121 + 60).map(\.id) == ["w1"])
            }
        }
    }
}
