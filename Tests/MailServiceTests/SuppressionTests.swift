import Foundation
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import Testing

/// Suppression lists on the accept path and filled by delivery: dropped recipients are stored
/// with their reason and never leased; bypass settings send anyway; a permanent failure lists
/// the address in the same transaction.
@Suite struct SuppressionTests {
    struct Fixture {
        let store: SQLiteStore
        var intake: MessageIntake
        let origin = MessageOrigin(clientAddress: "127.0.0.1", account: "alice@example.test", atMX: false)
        let now = 1_796_000_000
    }

    func fresh() async throws -> Fixture {
        let account = try await HostedAccount(prefix: "supp")
        let (store, admin) = (account.store, account.admin)
        _ = try await admin.addUser("bob@example.test", password: "pw-123456")
        var intake = MessageIntake(
            hostname: "mx.example.test", directory: store, queue: store, plans: ["free": PlanLimits(dailyMessages: 100)], clock: { 1_796_000_000 },
            hasFreeSpace: { true })
        intake.suppressions = store
        return Fixture(store: store, intake: intake)
    }

    func submission(to: [String], group: Int? = nil, bypass: SuppressionBypass = []) throws -> Submission {
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: try to.map { EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>")) })
        return Submission(
            envelope: envelope, content: ByteBuffer(string: "From: alice@example.test\r\nSubject: s\r\n\r\nbody\r\n"),
            tags: MessageTags(asmGroupID: group), bypass: bypass)
    }

    @Test func suppressedRecipientsAreDroppedWithTheirReasonAndNeverLeased() async throws {
        let f = try await fresh()
        try await f.store.addSuppressions([
            Suppression(account: "alice@example.test", list: .bounces, email: "Gone@Dest.test", createdAt: f.now),
            Suppression(account: "alice@example.test", list: .blocks, email: "blocked@dest.test", createdAt: f.now),
            Suppression(account: "alice@example.test", list: .group, groupID: 3, email: "optout@dest.test", createdAt: f.now),
            // Another account's list does not apply.
            Suppression(account: "bob@example.test", list: .unsubscribes, email: "ok@dest.test", createdAt: f.now),
        ])
        let outcome = await f.intake.submit(
            [try submission(to: ["gone@dest.test", "ok@dest.test", "blocked@dest.test", "optout@dest.test"], group: 3)], withProtocol: "HTTP",
            origin: f.origin, request: "R")
        guard case .accepted(let ids) = outcome else { Issue.record("\(outcome)"); return }
        let message = try #require(try await f.store.queuedMessage(id: ids[0]))
        #expect(message.recipients.map(\.state) == [.dropped, .queued, .queued, .dropped])
        #expect(message.recipients[0].lastReply == "Bounced Address" && message.recipients[3].lastReply == "Unsubscribed Address")
        let leased = try await f.store.leaseDue(now: f.now + 10, leaseUntil: f.now + 70, limit: 10)
        #expect(leased.flatMap(\.recipients).map(\.address) == ["ok@dest.test", "blocked@dest.test"])
        let events = try await f.store.events(messageID: ids[0]).map { "\($0.type):\($0.recipient)" }
        #expect(events.contains("dropped:gone@dest.test") && events.contains("dropped:optout@dest.test"))
        // Without the group, the group's list does not apply.
        guard case .accepted(let other) = await f.intake.submit([try submission(to: ["optout@dest.test"])], withProtocol: "HTTP", origin: f.origin, request: nil)
        else { Issue.record("refused"); return }
        #expect(try await f.store.queuedMessage(id: other[0])?.recipients.map(\.state) == [.queued])
    }

    @Test func bypassSettingsSendAnyway() async throws {
        let f = try await fresh()
        try await f.store.addSuppressions([
            Suppression(account: "alice@example.test", list: .bounces, email: "gone@dest.test", createdAt: f.now),
            Suppression(account: "alice@example.test", list: .unsubscribes, email: "left@dest.test", createdAt: f.now),
        ])
        func states(_ bypass: SuppressionBypass) async throws -> [RecipientState] {
            guard case .accepted(let ids) = await f.intake.submit(
                [try submission(to: ["gone@dest.test", "left@dest.test"], bypass: bypass)], withProtocol: "HTTP", origin: f.origin, request: nil)
            else { return [] }
            return try await f.store.queuedMessage(id: ids[0])?.recipients.map(\.state) ?? []
        }
        #expect(try await states([]) == [.dropped, .dropped])
        #expect(try await states(.bounces) == [.queued, .dropped])
        #expect(try await states(.unsubscribes) == [.dropped, .queued])
        #expect(try await states(.all) == [.queued, .queued])
    }

    @Test func permanentFailuresListTheAddressInTheSameTransaction() async throws {
        let f = try await fresh()
        guard case .accepted(let ids) = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test", "c@dest.test", "d@dest.test"])], withProtocol: "HTTP", origin: f.origin, request: nil)
        else { Issue.record("refused"); return }
        let replies = ["550 5.1.1 No such user", "554 5.7.1 Blocked", "553 5.1.3 Bad address syntax", "451 4.3.2 Later"]
        try await f.store.record(
            replies.enumerated().map { index, reply in
                DeliveryOutcome(
                    messageID: ids[0], position: index, recipient: ["a", "b", "c", "d"][index] + "@dest.test", state: reply.hasPrefix("5") ? .bounced : .deferred,
                    reply: reply, nextAttemptAt: reply.hasPrefix("5") ? nil : f.now + 60)
            }, bounces: [], at: f.now + 5)
        func list(_ list: SuppressionList) async throws -> [String] {
            try await f.store.suppressions(account: "alice@example.test", list: list, groupID: 0, email: nil, from: nil, to: nil, limit: 10, offset: 0)
                .map(\.email)
        }
        #expect(try await list(.bounces) == ["a@dest.test"])
        #expect(try await list(.blocks) == ["b@dest.test"])
        #expect(try await list(.invalidEmails) == ["c@dest.test"])
        let bounce = try await f.store.suppressions(account: "alice@example.test", list: .bounces, groupID: 0, email: "a@dest.test", from: nil, to: nil, limit: 1, offset: 0)
        #expect(bounce.first?.status == "5.1.1" && bounce.first?.reason == "550 5.1.1 No such user")
        // Blocks are listed, not dropped; the others are dropped next time.
        guard case .accepted(let again) = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test", "c@dest.test", "d@dest.test"])], withProtocol: "HTTP", origin: f.origin, request: nil)
        else { Issue.record("refused"); return }
        #expect(try await f.store.queuedMessage(id: again[0])?.recipients.map(\.state) == [.dropped, .queued, .dropped, .queued])
        #expect(SuppressionList.forFailure(reply: "550 no code") == .bounces)
        #expect(SuppressionList.forFailure(reply: "421 4.7.0 later") == nil)
    }

    @Test func groupsAndRemoval() async throws {
        let f = try await fresh()
        let group = try await f.store.addGroup(account: "alice@example.test", name: "News", description: "weekly", isDefault: true, at: f.now)
        let second = try await f.store.addGroup(account: "alice@example.test", name: "Offers", description: "", isDefault: true, at: f.now)
        #expect(try await f.store.groups(account: "alice@example.test").map(\.isDefault) == [false, true])
        try await f.store.addSuppressions([Suppression(account: "alice@example.test", list: .group, groupID: group.id, email: "x@dest.test", createdAt: f.now)])
        #expect(try await f.store.suppressedAddresses(account: "alice@example.test", addresses: ["x@dest.test"], group: group.id) == ["x@dest.test": .group])
        #expect(try await f.store.suppressedAddresses(account: "alice@example.test", addresses: ["x@dest.test"], group: second.id).isEmpty)
        #expect(try await f.store.removeGroup(id: group.id, account: "bob@example.test") == false)
        #expect(try await f.store.removeGroup(id: group.id, account: "alice@example.test"))
        #expect(try await f.store.suppressedAddresses(account: "alice@example.test", addresses: ["x@dest.test"], group: group.id).isEmpty)
    }
}
