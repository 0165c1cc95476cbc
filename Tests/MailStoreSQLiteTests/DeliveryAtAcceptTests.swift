import Foundation
import MailCore
import MailStore
import Synchronization
import Testing

@testable import MailStoreSQLite

/// MX mail to hosted mailboxes is delivered in the commit that stores it; every other kind of
/// recipient waits in the queue exactly as before.
@Suite struct DeliveryAtAcceptTests {
    func store() async throws -> SQLiteStore {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.addDomain("h.test")
        for user in ["alice@h.test", "full@h.test"] {
            try await store.addUser(MailUser(address: user, passwordHash: "h", plan: "free", createdAt: 1))
        }
        try await store.setQuota(user: "full@h.test", bytes: 0)
        try await store.addAlias("team@h.test", targets: ["alice@h.test"])
        return store
    }

    func commit(_ store: SQLiteStore, _ message: IncomingMessage) async throws -> CommitReport {
        let reports = Mutex<[CommitReport]>([])
        store.observeCommits { report in reports.withLock { $0.append(report) } }
        try await store.enqueue(message)
        return try #require(reports.withLock { $0.first })
    }

    @Test func aHostedMailboxGetsTheMessageInTheSameCommit() async throws {
        let store = try await store()
        var m = try message(to: ["Alice+news@h.test", "team@h.test", "full@h.test", "nobody@h.test", "x@remote.test"])
        m.deliverToMailboxesAtOnce = true
        let report = try await commit(store, m)
        #expect(
            report.delivered == [
                CommitReport.Delivery(
                    messageID: m.id, recipient: "Alice+news@h.test", user: "alice@h.test", folder: "INBOX",
                    reply: "250 2.0.0 Delivered to alice@h.test in INBOX")
            ])
        #expect(report.leftQueued)
        let queued = try #require(try await store.queuedMessage(id: m.id))
        let states = queued.recipients.map { "\($0.address) \($0.state.rawValue) \($0.attempts)" }
        // The alias, the full mailbox, the unknown and the remote recipient are the scheduler's.
        #expect(
            states == [
                "Alice+news@h.test delivered 1", "team@h.test queued 0", "full@h.test queued 0", "nobody@h.test queued 0", "x@remote.test queued 0",
            ])
        #expect(queued.recipients[0].lastReply == "250 2.0.0 Delivered to alice@h.test in INBOX")
        // The copy reads as the scheduler's local delivery writes it: trace fields in front.
        let inbox = try #require(try await store.mailbox(user: "alice@h.test", name: "INBOX"))
        let listed = try await store.messages(mailboxID: inbox.id)
        #expect(listed.count == 1)
        let content = try #require(try await store.content(mailboxID: inbox.id, uid: listed[0].uid))
        #expect(String(decoding: content, as: UTF8.self) == "Return-Path: <a@r.test>\r\nDelivered-To: Alice+news@h.test\r\nMessage-ID: <m@x>\r\n\r\nhi\r\n")
        // One attempt in the activity log, as a delivery from the queue records it.
        let events = try await store.events(messageID: m.id).filter { $0.recipient == "Alice+news@h.test" }.map(\.type)
        #expect(events == ["queued", "delivered"])
    }

    @Test func quarantinedMailGoesToJunkAndNothingIsLeftQueued() async throws {
        let store = try await store()
        var m = try message(to: ["alice@h.test"])
        m.deliverToMailboxesAtOnce = true
        m.quarantine = "dmarc=fail (p=quarantine)"
        let report = try await commit(store, m)
        #expect(report.delivered.map(\.folder) == ["Junk"])
        #expect(!report.leftQueued)
        #expect(try await store.leaseDue(now: 2_000_000_000, leaseUntil: 2_000_000_600, limit: 10).isEmpty)
    }

    @Test func withoutTheFlagEveryRecipientIsQueued() async throws {
        let store = try await store()
        let m = try message(to: ["alice@h.test"])
        let report = try await commit(store, m)
        #expect(report.delivered.isEmpty && report.leftQueued)
        let inbox = try #require(try await store.mailbox(user: "alice@h.test", name: "INBOX"))
        #expect(try await store.messages(mailboxID: inbox.id).isEmpty)
    }
}
