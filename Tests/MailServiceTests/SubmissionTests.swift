import Foundation
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import Testing

/// `MessageIntake.submit`: the HTTP API's way in. All messages of a request or none, plan limits
/// over the whole request, every refusal reported with where it is.
@Suite struct SubmissionTests {
    struct Fixture {
        let store: SQLiteStore
        let intake: MessageIntake
        let origin = MessageOrigin(clientAddress: "127.0.0.1", account: "alice@example.test", atMX: false)
    }

    func fresh(daily: Int = 100, now: Int = 1_796_000_000) async throws -> Fixture {
        let account = try await HostedAccount(prefix: "submit")
        let store = account.store
        let intake = MessageIntake(
            hostname: "mx.example.test", directory: store, queue: store, plans: ["free": PlanLimits(dailyMessages: daily)], clock: { now },
            hasFreeSpace: { true })
        return Fixture(store: store, intake: intake)
    }

    func submission(from: String = "alice@example.test", to: [String], subject: String = "s", notBefore: Int? = nil) throws -> Submission {
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<\(from)>"), recipients: try to.map { EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>")) })
        let content = "From: \(from)\r\nTo: \(to.joined(separator: ", "))\r\nSubject: \(subject)\r\n\r\nbody\r\n"
        return Submission(envelope: envelope, content: ByteBuffer(string: content), notBefore: notBefore)
    }

    @Test func everyMessageOfARequestIsStoredWithItsRequestAndSchedule() async throws {
        let f = try await fresh()
        let outcome = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test"]), try submission(to: ["c@dest.test"], notBefore: 1_796_003_600)],
            withProtocol: "HTTP", origin: f.origin, request: "REQ")
        guard case .accepted(let ids) = outcome else { Issue.record("refused: \(outcome)"); return }
        #expect(ids.count == 2)
        let queue = try await f.store.listQueue()
        #expect(Set(queue.map(\.id)) == Set(ids))
        let later = try #require(queue.first { $0.recipients.map(\.address) == ["c@dest.test"] })
        // Held until send_at: due then, not now.
        #expect(later.recipients[0].nextAttemptAt == 1_796_003_600)
        let now = try #require(queue.first { $0.recipients.count == 2 })
        #expect(now.recipients[0].nextAttemptAt == 1_796_000_000)
        #expect(try await f.store.leaseDue(now: 1_796_000_000, leaseUntil: 1_796_000_060, limit: 10).map(\.message.id) == [now.id])
        #expect(try f.store.usage(user: "alice@example.test", periods: ["day:1795996800"]) == ["day:1795996800": 3])
    }

    @Test func everyRefusalIsReportedWithItsPlaceAndNothingIsStored() async throws {
        let f = try await fresh()
        let outcome = await f.intake.submit(
            [
                try submission(to: ["a@dest.test"]),
                try submission(from: "ceo@elsewhere.test", to: ["b@dest.test", "nobody@example.test"]),
            ], withProtocol: "HTTP", origin: f.origin, request: nil)
        guard case .refused(let refusals) = outcome else { Issue.record("accepted"); return }
        #expect(refusals.contains(.sender(message: 1, .senderNotAllowed(address: "ceo@elsewhere.test", account: "alice@example.test"))))
        #expect(refusals.contains(.recipient(message: 1, recipient: 1, .noSuchUser)))
        #expect(refusals.contains(.content(message: 1, .fromNotAllowed(address: "ceo@elsewhere.test", account: "alice@example.test"))))
        #expect(refusals.count == 3)
        #expect(try await f.store.listQueue().isEmpty)
    }

    @Test func aRequestThatWouldPassThePlanIsRefusedWhole() async throws {
        let f = try await fresh(daily: 5)
        // 3 + 3 recipients: each message alone fits, the request does not.
        let outcome = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test", "c@dest.test"]), try submission(to: ["d@dest.test", "e@dest.test", "f@dest.test"])],
            withProtocol: "HTTP", origin: f.origin, request: nil)
        guard case .refused(let refusals) = outcome, case .request(.limitReached(let limit, _)) = refusals.first else {
            Issue.record("expected a limit refusal, got \(outcome)")
            return
        }
        #expect(limit.limit == 5 && limit.name == "daily")
        #expect(try await f.store.listQueue().isEmpty)
        #expect(f.intake.remainingUsage(account: "alice@example.test")?.remaining == 5)
        // Five fit exactly; then nothing is left.
        let fits = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test"]), try submission(to: ["c@dest.test", "d@dest.test", "e@dest.test"])],
            withProtocol: "HTTP", origin: f.origin, request: nil)
        guard case .accepted = fits else { Issue.record("refused: \(fits)"); return }
        #expect(f.intake.remainingUsage(account: "alice@example.test")?.remaining == 0)
    }

    @Test func theStoreChecksAGroupsChargesTogether() async throws {
        // Two requests racing past the early check: the writing transaction refuses the one
        // that would pass the limit, whole.
        let f = try await fresh(daily: 4)
        let limits = PlanLimits(dailyMessages: 4).usageLimits(at: 1_796_000_000)
        func message(_ recipient: String) throws -> IncomingMessage {
            let sub = try submission(to: [recipient])
            return IncomingMessage(
                id: QueueID.make(), envelope: sub.envelope, content: Data(sub.content.readableBytesView), receivedAt: 1_796_000_000,
                clientAddress: nil, heloName: nil, charge: UsageCharge(account: "alice@example.test", recipients: 1, limits: limits))
        }
        try await f.store.enqueue(group: [try message("a@dest.test"), try message("b@dest.test"), try message("c@dest.test")])
        await #expect(throws: StoreError.limitReached(limits[0])) {
            try await f.store.enqueue(group: [try message("d@dest.test"), try message("e@dest.test")])
        }
        #expect(try await f.store.listQueue().count == 3)
    }

    @Test func sandboxChecksEverythingAndStoresNothing() async throws {
        let f = try await fresh(daily: 1)
        let ok = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test"])], withProtocol: "HTTP", origin: f.origin, request: nil, store: false)
        #expect(ok == .accepted([]))
        let bad = await f.intake.submit(
            [try submission(from: "x@elsewhere.test", to: ["a@dest.test"])], withProtocol: "HTTP", origin: f.origin, request: nil, store: false)
        guard case .refused = bad else { Issue.record("accepted a foreign sender"); return }
        #expect(try await f.store.listQueue().isEmpty)
    }
}
