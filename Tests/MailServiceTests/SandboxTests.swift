import Foundation
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import Testing

/// Sandbox keys and accounts: mail is accepted, stored and final at once, never leased for
/// delivery, its content kept for the inbox, its events marked; the inbox keeps its newest
/// thousand.
@Suite struct SandboxTests {
    func fresh() async throws -> (SQLiteStore, MessageIntake, Administration) {
        let account = try await HostedAccount(prefix: "sandbox")
        let (store, admin) = (account.store, account.admin)
        var intake = MessageIntake(
            hostname: "mx.example.test", directory: store, queue: store, plans: ["free": PlanLimits()], clock: { 1_796_000_000 }, hasFreeSpace: { true })
        intake.sandboxes = store
        return (store, intake, admin)
    }

    func submit(_ intake: MessageIntake, sandboxKey: Bool, subject: String = "s") async throws -> String {
        var origin = MessageOrigin(clientAddress: "127.0.0.1", account: "alice@example.test", atMX: false)
        origin.sandbox = sandboxKey
        let envelope = Envelope(reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<bob@dest.test>"))])
        let content = ByteBuffer(string: "From: alice@example.test\r\nSubject: \(subject)\r\n\r\nbody\r\n")
        guard case .accepted(let ids) = await intake.submit([Submission(envelope: envelope, content: content)], withProtocol: "HTTP", origin: origin, request: nil)
        else { throw StoreError.notFound("an accepted message") }
        return ids[0]
    }

    @Test func sandboxMailIsKeptFinalAndNeverLeased() async throws {
        let (store, intake, admin) = try await fresh()
        let kept = try await submit(intake, sandboxKey: true, subject: "kept")
        let sent = try await submit(intake, sandboxKey: false, subject: "sent")
        #expect(try await store.queuedMessage(id: kept)?.recipients.map(\.state) == [.delivered])
        #expect(try await store.leaseDue(now: 1_796_000_010, leaseUntil: 1_796_000_070, limit: 10).map(\.message.id) == [sent])
        #expect(try await store.content(id: kept) != nil)
        let inbox = try await admin.sandboxMessages(of: "alice@example.test")
        #expect(inbox.map(\.id) == [kept] && inbox[0].subject == "kept" && inbox[0].recipients == ["bob@dest.test"])
        #expect(String(decoding: try await admin.sandboxContent(of: "alice@example.test", id: kept), as: UTF8.self).contains("Subject: kept"))
        await #expect(throws: AdministrationError.self) { try await admin.sandboxContent(of: "alice@example.test", id: sent) }
        let events = try await store.events(messageID: kept)
        #expect(events.map(\.type) == ["queued", "delivered"] && events[1].mxHost == "sandbox")
        let activity = try await store.activity(account: "alice@example.test", filter: ActivityFilter(to: "bob@dest.test"), limit: 10)
        #expect(activity.first { $0.queueID == kept }?.sandbox == true && activity.first { $0.queueID == sent }?.sandbox == false)

        // A sandbox account: every message, whatever the credential.
        try await admin.setSandboxed("alice@example.test", true)
        let account = try await submit(intake, sandboxKey: false, subject: "account")
        #expect(try await store.queuedMessage(id: account)?.recipients.map(\.state) == [.delivered])
    }

    @Test func theInboxKeepsItsNewestThousand() async throws {
        let (store, intake, _) = try await fresh()
        var first = ""
        for index in 0...sandboxInboxSize {
            let id = try await submit(intake, sandboxKey: true, subject: "n\(index)")
            if index == 0 { first = id }
        }
        let inbox = try await store.sandboxMessages(account: "alice@example.test", limit: 5000)
        #expect(inbox.count == sandboxInboxSize && !inbox.contains { $0.id == first })
        let content = try await store.content(id: first)
        let events = try await store.events(messageID: first)
        #expect(content == nil && events.isEmpty)
    }
}
