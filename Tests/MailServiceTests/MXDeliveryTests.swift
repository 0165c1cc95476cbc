import Foundation
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import Testing

/// Mail received at the MX reaches a hosted mailbox in the commit that accepts it; an
/// account's mail to the same mailbox goes through the queue (its events, webhooks and
/// tracking are the scheduler's).
@Suite struct MXDeliveryTests {
    func accept(_ intake: MessageIntake, from: String, origin: MessageOrigin) async throws -> String {
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<\(from)>"), recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<alice@example.test>"))])
        let content = ByteBuffer(string: "From: \(from)\r\nSubject: hello\r\n\r\nbody\r\n")
        let result = await withCheckedContinuation { continuation in
            intake.accept(envelope, content: content, withProtocol: "ESMTP", origin: origin) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    @Test func mxMailIsInTheMailboxWhenAcceptedAndAccountMailIsQueued() async throws {
        let account = try await HostedAccount(prefix: "mx-delivery")
        let store = account.store
        let intake = MessageIntake(
            hostname: "mx.example.test", directory: store, queue: store, plans: ["free": PlanLimits()], clock: { 1_796_000_000 }, hasFreeSpace: { true })
        let inbound = try await accept(intake, from: "someone@remote.test", origin: MessageOrigin(clientAddress: "192.0.2.7", account: nil, atMX: true))
        let submitted = try await accept(
            intake, from: "alice@example.test", origin: MessageOrigin(clientAddress: "127.0.0.1", account: "alice@example.test", atMX: false))
        #expect(try await store.queuedMessage(id: inbound)?.recipients.map(\.state) == [.delivered])
        #expect(try await store.queuedMessage(id: submitted)?.recipients.map(\.state) == [.queued])
        let inbox = try #require(try await store.mailbox(user: "alice@example.test", name: "INBOX"))
        #expect(try await store.messages(mailboxID: inbox.id).map(\.messageID) == [inbound])
        #expect(try await store.leaseDue(now: 1_796_000_010, leaseUntil: 1_796_000_070, limit: 10).map(\.message.id) == [submitted])
    }
}
