import Foundation
import MailCore
import MailService
import MailStore
import NIOCore
import NIOEmbedded
import SMTPProtocol
import SMTPServer
import Testing

/// A directory and queue whose answers the test decides.
final class FakeStore: DirectoryRepository, QueueRepository, @unchecked Sendable {
    var statuses: [String: RecipientStatus] = [:]
    var enqueueResult: Result<Void, StoreError> = .success(())
    var enqueued: [IncomingMessage] = []
    var lookups = 0

    func addDomain(_ name: String) async throws(StoreError) {}
    func listDomains() async throws(StoreError) -> [HostedDomain] { [] }
    func isHostedDomain(_ name: String) async throws(StoreError) -> Bool { false }
    func addUser(_ user: MailUser) async throws(StoreError) {}
    func listUsers() async throws(StoreError) -> [MailUser] { [] }
    func user(_ address: String) async throws(StoreError) -> MailUser? { nil }
    func removeUser(_ address: String) async throws(StoreError) {}
    func credentials(_ address: String) throws(StoreError) -> StoredCredentials? { nil }
    func addAPIKey(_ key: APIKeyRecord) async throws(StoreError) {}
    func listAPIKeys(user: String) async throws(StoreError) -> [APIKeyRecord] { [] }
    func revokeAPIKey(id: String, at: Int) async throws(StoreError) -> Bool { false }
    func apiKey(id: String) throws(StoreError) -> APIKeyRecord? { nil }
    func recordAPIKeyUse(id: String, at: Int) async throws(StoreError) {}
    var domainsByUser: [String: [String]] = [:]
    func allowSendingDomain(user: String, domain: String) async throws(StoreError) {}
    func sendingDomains(user: String) throws(StoreError) -> [String] { domainsByUser[user] ?? [] }
    var plans: [String: String] = [:]
    var counters: [String: Int] = [:]
    func plan(user: String) throws(StoreError) -> String? { plans[user] ?? "free" }
    func setPlan(user: String, plan: String) async throws(StoreError) {}
    func setOperator(user: String, _ isOperator: Bool) async throws(StoreError) {}
    func setCredentials(user: String, passwordHash: String, scram: String?, cramSecret: String?) async throws(StoreError) {}
    func usage(user: String, periods: [String]) throws(StoreError) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: periods.map { ($0, counters[$0] ?? 0) })
    }
    func recipientStatus(domain: String, address: String) throws(StoreError) -> RecipientStatus {
        lookups += 1
        return statuses[address] ?? .notHosted
    }

    func enqueue(_ message: IncomingMessage, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        enqueued.append(message)
        completion(enqueueResult)
    }
    func enqueue(group: [IncomingMessage], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        if case .success = enqueueResult { enqueued += group }
        completion(enqueueResult)
    }
    func updateAPIKey(id: String, name: String?, scopes: Set<APIScope>?) async throws(StoreError) -> Bool { false }
    func listQueue() async throws(StoreError) -> [QueuedMessage] { [] }
    func queuedMessage(id: String) async throws(StoreError) -> QueuedMessage? { nil }
    func content(id: String) async throws(StoreError) -> [UInt8]? { nil }
    func removeQueued(id: String) async throws(StoreError) -> Bool { false }
}

@Suite struct ReceivingPolicyTests {
    let loop = EmbeddedEventLoop()
    let mx = ConnectionInfo(clientAddress: "192.0.2.7", listener: .mx, clientIsTrusted: false)

    func policy(_ store: FakeStore, freeSpace: Bool = true) -> ReceivingPolicy {
        ReceivingPolicy(hostname: "mx.test", directory: store, queue: store, plans: ["free": PlanLimits()], hasFreeSpace: { freeSpace })
    }

    func recipient(_ text: String) throws -> EnvelopeRecipient {
        EnvelopeRecipient(path: try ForwardPath(parsing: text))
    }

    @Test func recipientRules() throws {
        let store = FakeStore()
        store.statuses = ["alice@h.test": .exists, "nobody@h.test": .unknownUser, "postmaster@h.test": .unknownUser]
        let p = policy(store)
        #expect(try p.checkRecipient(recipient("<alice@h.test>"), accepted: 0, connection: mx, on: loop).wait() == nil)
        #expect(try p.checkRecipient(recipient("<nobody@h.test>"), accepted: 0, connection: mx, on: loop).wait() == .noSuchUser)
        #expect(try p.checkRecipient(recipient("<postmaster@h.test>"), accepted: 0, connection: mx, on: loop).wait() == nil)
        #expect(try p.checkRecipient(recipient("<Postmaster>"), accepted: 0, connection: mx, on: loop).wait() == nil)
        #expect(try p.checkRecipient(recipient("<x@other.test>"), accepted: 0, connection: mx, on: loop).wait() == .relayDenied)
        #expect(try p.checkRecipient(recipient("<x@[192.0.2.1]>"), accepted: 0, connection: mx, on: loop).wait() == .relayDenied)
        let trusted = ConnectionInfo(clientAddress: "127.0.0.1", listener: .mx, clientIsTrusted: true)
        #expect(try p.checkRecipient(recipient("<x@other.test>"), accepted: 0, connection: trusted, on: loop).wait() == nil)
        #expect(try p.checkRecipient(recipient("<nobody@h.test>"), accepted: 0, connection: trusted, on: loop).wait() == .noSuchUser)
    }

    @Test func unknownUsersAreNeverCached() throws {
        let store = FakeStore()
        store.statuses = ["new@h.test": .unknownUser]
        let p = policy(store)
        #expect(try p.checkRecipient(recipient("<new@h.test>"), accepted: 0, connection: mx, on: loop).wait() == .noSuchUser)
        store.statuses["new@h.test"] = .exists  // `tern user add` from another process
        #expect(try p.checkRecipient(recipient("<new@h.test>"), accepted: 0, connection: mx, on: loop).wait() == nil)
        let before = store.lookups
        #expect(try p.checkRecipient(recipient("<new@h.test>"), accepted: 0, connection: mx, on: loop).wait() == nil)
        #expect(store.lookups == before)  // the positive answer was cached
    }

    @Test func authenticatedSenderMustOwnTheDomain() throws {
        let store = FakeStore()
        store.domainsByUser = ["alice@h.test": ["h.test", "brand.test"]]
        let p = policy(store)
        let authed = ConnectionInfo(clientAddress: "192.0.2.7", listener: .submission, clientIsTrusted: false, authenticatedAs: "alice@h.test")
        #expect(try p.checkSender(ReversePath(parsing: "<alice@h.test>"), MailParameters(), connection: authed, on: loop).wait() == nil)
        #expect(try p.checkSender(ReversePath(parsing: "<news@Brand.test>"), MailParameters(), connection: authed, on: loop).wait() == nil)
        #expect(try p.checkSender(ReversePath(parsing: "<ceo@bank.test>"), MailParameters(), connection: authed, on: loop).wait()?.code == 553)
        #expect(try p.checkSender(.null, MailParameters(), connection: authed, on: loop).wait() == nil)
        // Header From.
        #expect(p.headerRefusal(ByteBuffer(string: "From: Alice <alice@h.test>\r\n\r\nx"), connection: authed) == nil)
        #expect(p.headerRefusal(ByteBuffer(string: "From: ceo@bank.test\r\n\r\nx"), connection: authed)?.code == 550)
        #expect(p.headerRefusal(ByteBuffer(string: "From: a@h.test, ceo@bank.test\r\n\r\nx"), connection: authed)?.code == 550)
        #expect(p.headerRefusal(ByteBuffer(string: "Subject: none\r\n\r\nx"), connection: authed)?.enhanced == EnhancedStatus(5, 6, 0))
        let twoFroms = ByteBuffer(string: "From: alice@h.test\r\nFrom: alice@h.test\r\n\r\nx")
        #expect(p.headerRefusal(twoFroms, connection: authed)?.enhanced == EnhancedStatus(5, 6, 0))
        // Inbound on the MX: only the several-From rule applies.
        #expect(p.headerRefusal(ByteBuffer(string: "From: ceo@bank.test\r\n\r\nx"), connection: mx) == nil)
        #expect(p.headerRefusal(twoFroms, connection: mx)?.code == 550)
    }

    @Test func planLimitsAtRecipient() throws {
        let store = FakeStore()
        store.plans = ["alice@h.test": "small"]
        let day = 86400 * 10
        let p = ReceivingPolicy(
            hostname: "mx.test", directory: store, queue: store,
            plans: ["small": PlanLimits(dailyMessages: 3, maxRecipientsPerMessage: 2)], clock: { day + 100 }, hasFreeSpace: { true })
        let authed = ConnectionInfo(clientAddress: "192.0.2.7", listener: .submission, clientIsTrusted: false, authenticatedAs: "alice@h.test")
        store.statuses = ["x@far.test": .notHosted]
        #expect(try p.checkRecipient(recipient("<x@far.test>"), accepted: 0, connection: authed, on: loop).wait() == nil)
        #expect(try p.checkRecipient(recipient("<x@far.test>"), accepted: 2, connection: authed, on: loop).wait()?.enhanced == EnhancedStatus(4, 5, 3))
        store.counters["day:\(day)"] = 2
        #expect(try p.checkRecipient(recipient("<x@far.test>"), accepted: 0, connection: authed, on: loop).wait() == nil)
        let refusal = try p.checkRecipient(recipient("<x@far.test>"), accepted: 1, connection: authed, on: loop).wait()
        #expect(refusal?.code == 452)
        #expect(refusal?.enhanced == EnhancedStatus(4, 7, 1))
        #expect(refusal?.lines.first?.contains("daily limit of 3") == true)
        #expect(refusal?.lines.first?.contains("resets at 1970-01-12T00:00:00Z") == true)
        // An account on a plan the configuration does not have cannot send, temporarily.
        store.plans["alice@h.test"] = "gone"
        #expect(try p.checkRecipient(recipient("<x@far.test>"), accepted: 0, connection: authed, on: loop).wait()?.code == 451)
    }

    /// Issue 12: a header of thousands of fields is refused at the end of DATA (552 5.3.4),
    /// before any per-field work; a thousand is still fine.
    @Test func tooManyHeaderFields() throws {
        let p = policy(FakeStore())
        let limit = MessageIntake.maximumHeaderFields
        func message(_ fields: Int) -> ByteBuffer {
            var text = "From: a@b.test\r\n"
            for i in 1..<fields { text += "X-Field-\(i): value\r\n\tfolded\r\n" }
            return ByteBuffer(string: text + "\r\nbody\r\n")
        }
        #expect(p.headerRefusal(message(limit), connection: mx) == nil)
        let refusal = p.headerRefusal(message(limit + 1), connection: mx)
        #expect(refusal?.code == 552 && refusal?.enhanced == EnhancedStatus(5, 3, 4))
        // Body lines do not count.
        #expect(p.headerRefusal(ByteBuffer(string: "From: a@b.test\r\n\r\n" + String(repeating: "x: y\r\n", count: 5000)), connection: mx) == nil)
    }

    /// Issue 12 item 4: more than 50 Received fields is a loop (554 5.4.6); 50 pass.
    @Test func mailLoopsAreRefused() throws {
        let p = policy(FakeStore())
        func message(_ hops: Int) -> ByteBuffer {
            ByteBuffer(string: String(repeating: "Received: from a by b; Thu, 1 Jan 1970 00:00:00 +0000\r\n", count: hops) + "From: a@b.test\r\n\r\nx\r\n")
        }
        #expect(p.headerRefusal(message(MessageIntake.maximumReceivedFields), connection: mx) == nil)
        let refusal = p.headerRefusal(message(MessageIntake.maximumReceivedFields + 1), connection: mx)
        #expect(refusal?.code == 554 && refusal?.enhanced == EnhancedStatus(5, 4, 6))
    }

    /// Issue 12 item 9: the From check finds From fields however they are spelled: any case,
    /// and with white space before the colon (RFC 5322 §4.5), as DKIM and DMARC read them.
    @Test func fromCheckFindsEverySpelling() throws {
        let store = FakeStore()
        store.domainsByUser = ["alice@h.test": ["h.test"]]
        let p = policy(store)
        let authed = ConnectionInfo(clientAddress: "192.0.2.7", listener: .submission, clientIsTrusted: false, authenticatedAs: "alice@h.test")
        for spelling in ["From : ceo@bank.test", "fROM:ceo@bank.test", "From\t:\r\n ceo@bank.test"] {
            let refusal = p.headerRefusal(ByteBuffer(string: "\(spelling)\r\n\r\nx"), connection: authed)
            #expect(refusal?.code == 550 && refusal?.enhanced == EnhancedStatus(5, 7, 1), "\(spelling)")
        }
        // A second From hidden behind a space is still a second From.
        let hidden = ByteBuffer(string: "From: alice@h.test\r\nFrom : ceo@bank.test\r\n\r\nx")
        #expect(p.headerRefusal(hidden, connection: authed)?.enhanced == EnhancedStatus(5, 6, 0))
        #expect(p.headerRefusal(hidden, connection: mx)?.enhanced == EnhancedStatus(5, 6, 0))
        // Not a From field: a longer name, and a continuation line.
        #expect(p.headerRefusal(ByteBuffer(string: "From: alice@h.test\r\nFromage: ceo@bank.test\r\n\r\nx"), connection: authed) == nil)
        #expect(p.headerRefusal(ByteBuffer(string: "From: alice@h.test\r\nSubject: a\r\n From: ceo@bank.test\r\n\r\nx"), connection: authed) == nil)
    }

    /// Issue 12 item 9: an Authentication-Results field claiming to be this server's is removed
    /// on submission too, not only on the MX with checks on; another server's stays.
    @Test func forgedResultsAreRemovedOnSubmission() throws {
        let store = FakeStore()
        store.domainsByUser = ["alice@h.test": ["h.test"]]
        let p = policy(store)
        let authed = ConnectionInfo(clientAddress: "192.0.2.7", listener: .submission, clientIsTrusted: false, authenticatedAs: "alice@h.test")
        let envelope = Envelope(reversePath: try ReversePath(parsing: "<alice@h.test>"), recipients: [try recipient("<bob@h.test>")])
        let trace = TransactionTrace(heloName: "c", withProtocol: "ESMTPSA", tls: true)
        let content = "Authentication-Results: MX.test; dkim=pass header.d=bank.test\r\nAuthentication-Results: other.test; spf=pass\r\nFrom: alice@h.test\r\n\r\nbody\r\n"
        _ = try p.store(envelope, content: ByteBuffer(string: content), trace: trace, connection: authed, on: loop).wait()
        let stored = String(decoding: try #require(store.enqueued.first).content, as: UTF8.self)
        #expect(!stored.contains("MX.test; dkim=pass"))
        #expect(stored.contains("Authentication-Results: other.test; spf=pass\r\nFrom: alice@h.test\r\n\r\nbody\r\n"))
    }

    @Test func diskFullAtMail() throws {
        let p = policy(FakeStore(), freeSpace: false)
        #expect(try p.checkSender(.null, MailParameters(), connection: mx, on: loop).wait() == .insufficientStorage)
        #expect(try policy(FakeStore()).checkSender(.null, MailParameters(), connection: mx, on: loop).wait() == nil)
    }

    @Test func storeFailuresMapToTransientReplies() throws {
        let envelope = Envelope(reversePath: .null, recipients: [try recipient("<alice@h.test>")])
        let trace = TransactionTrace(heloName: "c", withProtocol: "ESMTP", tls: false)
        let store = FakeStore()
        let p = policy(store)
        let ok = try p.store(envelope, content: ByteBuffer(string: "Subject: x\r\n\r\nbody\r\n"), trace: trace, connection: mx, on: loop).wait()
        guard case .success(let id) = ok else {
            Issue.record("not stored")
            return
        }
        #expect(store.enqueued.first?.id == id)
        let stored = String(decoding: store.enqueued[0].content, as: UTF8.self)
        #expect(stored.hasPrefix("Received: from c ([192.0.2.7])\r\n\tby mx.test (Tern) with ESMTP id \(id)\r\n\tfor <alice@h.test>; "))
        #expect(stored.hasSuffix("\r\nSubject: x\r\n\r\nbody\r\n"))
        store.enqueueResult = .failure(.full)
        #expect(try p.store(envelope, content: ByteBuffer(), trace: trace, connection: mx, on: loop).wait() == .failure(.insufficientStorage))
        store.enqueueResult = .failure(.failure("disk I/O error"))
        #expect(try p.store(envelope, content: ByteBuffer(), trace: trace, connection: mx, on: loop).wait() == .failure(.failed))
    }

    @Test func receivedHeaderForIPv6AndHostileHelo() throws {
        let envelope = Envelope(reversePath: .null, recipients: [try recipient("<a@h.test>"), try recipient("<b@h.test>")])
        let header = ReceivedHeader.make(
            hostname: "mx.test", heloName: "evil\r\nBcc: x (y)", withProtocol: "ESMTPS",
            clientAddress: "::1", queueID: "Q", envelope: envelope, unixSeconds: 0)
        #expect(header == "Received: from evilBcc:xy ([IPv6:::1])\r\n\tby mx.test (Tern) with ESMTPS id Q; Thu, 1 Jan 1970 00:00:00 +0000\r\n")
    }
}
