import DNSClient
import Foundation
import MailCore
import MailStore
import MailStoreSQLite
import SMTPProtocol
import Synchronization
import Testing

@testable import Delivery

// MARK: fixtures

/// Delivery's time as the test moves it: queue time and every timer. A pause of up to 50 ms (the
/// scheduler's coalescing waits) only yields; longer sleeps wait until `advance` passes them.
final class ManualClock: DeliveryClock {
    struct State {
        var seconds = 1_800_000_000
        var elapsed = Duration.seconds(1000)
        var sleepers: [Int: (until: Duration, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextSleeper = 0
        var cancelled: Set<Int> = []
    }

    let state = Mutex(State())
    func now() -> Int { state.withLock { $0.seconds } }
    func elapsed() -> Duration { state.withLock { $0.elapsed } }

    /// Like the system clock's, a sleep ends early when its task is cancelled.
    func sleep(for duration: Duration) async {
        if duration <= .milliseconds(50) { return await Task.yield() }
        let id = state.withLock { state -> Int in
            state.nextSleeper += 1
            return state.nextSleeper
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil { return true }
                    state.sleepers[id] = (state.elapsed + duration, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                guard let sleeper = state.sleepers.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return nil as CheckedContinuation<Void, Never>?
                }
                return sleeper.continuation
            }
            sleeper?.resume()
        }
    }

    /// Moves time on by `seconds`, waking every sleep that ends by then.
    func advance(_ seconds: Int) {
        let due = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.seconds += seconds
            state.elapsed += .seconds(seconds)
            let now = state.elapsed
            let due = state.sleepers.filter { $0.value.until <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }
}

/// A next hop that answers by rule and remembers every transaction.
final class FakeConnector: OutboundConnector {
    struct Sent: Sendable {
        var address: String
        var message: OutboundMessage
    }

    struct State {
        var sent: [Sent] = []
        var connects: [String] = []
        var open = 0
        var maxOpen = 0
    }

    let state = Mutex(State())
    /// Addresses that refuse connections.
    let down: Set<String>
    /// The reply for one recipient on one attempt (attempt counts transactions so far).
    let answer: @Sendable (_ recipient: String, _ transaction: Int) -> SMTPReply
    let delay: Duration
    /// Moves a test's clock forward on every message sent (a slow peer, in queue time).
    let clockStepPerMessage: (ManualClock, Int)?
    /// A peer that takes the connection and never answers a transaction.
    let hangs: Bool

    init(
        down: Set<String> = [], delay: Duration = .zero, clockStepPerMessage: (ManualClock, Int)? = nil, hangs: Bool = false,
        answer: @escaping @Sendable (String, Int) -> SMTPReply = { _, _ in SMTPReply(250, EnhancedStatus(2, 0, 0), "Queued") }
    ) {
        self.down = down
        self.answer = answer
        self.delay = delay
        self.clockStepPerMessage = clockStepPerMessage
        self.hangs = hangs
    }

    var sent: [Sent] { state.withLock { $0.sent } }
    var connects: [String] { state.withLock { $0.connects } }

    func connect(host: String, address: String, port: Int) async -> Result<any OutboundConnection, ConnectFailure> {
        state.withLock { $0.connects.append("\(host)[\(address)]:\(port)") }
        if down.contains(address) {
            return .failure(ConnectFailure(reply: SMTPReply(451, EnhancedStatus(4, 4, 1), "Connection refused"), fromRemote: false))
        }
        state.withLock {
            $0.open += 1
            $0.maxOpen = max($0.maxOpen, $0.open)
        }
        return .success(FakeConnection(connector: self, details: ConnectionDetails(host: host, address: address, tlsVersion: "TLSv1.3")))
    }
}

final class FakeConnection: OutboundConnection {
    let connector: FakeConnector
    let details: ConnectionDetails
    let closed = Mutex(false)

    init(connector: FakeConnector, details: ConnectionDetails) {
        self.connector = connector
        self.details = details
    }

    /// A hanging send, until `abort`.
    let stalled = Mutex<CheckedContinuation<Void, Never>?>(nil)

    var isOpen: Bool { !closed.withLock { $0 } }

    func send(_ messages: [OutboundMessage]) async -> [[RecipientResult]] {
        if connector.hangs {
            await withCheckedContinuation { continuation in
                let abortedAlready = closed.withLock { closed in
                    if !closed { stalled.withLock { $0 = continuation } }
                    return closed
                }
                if abortedAlready { continuation.resume() }
            }
            let lost = SMTPReply(451, EnhancedStatus(4, 4, 2), "Delivery stopped: the server is shutting down")
            return messages.map { $0.recipients.map { _ in RecipientResult(reply: lost, fromRemote: false) } }
        }
        var out: [[RecipientResult]] = []
        for message in messages {
            if connector.delay > .zero { try? await Task.sleep(for: connector.delay) }
            if let (clock, step) = connector.clockStepPerMessage { clock.advance(step) }
            let n = connector.state.withLock { state -> Int in
                state.sent.append(.init(address: details.address, message: message))
                return state.sent.count
            }
            out.append(message.recipients.map { RecipientResult(reply: connector.answer($0.address, n)) })
        }
        return out
    }

    func close() async {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if wasOpen { connector.state.withLock { $0.open -= 1 } }
    }

    func abort() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if wasOpen { connector.state.withLock { $0.open -= 1 } }
        stalled.withLock { stalled in
            defer { stalled = nil }
            return stalled
        }?.resume()
    }
}

func name(_ text: String) -> DNSName { try! DNSName(text) }

/// Waits for work on other threads (SQLite, sessions) to show: polls `condition` for at most
/// `seconds` of real time. Delivery's own timers run on the test's `ManualClock`.
func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}

/// example.net: MX 10 mx1, MX 20 mx2; nullmx.test: null MX; nomx.test: A only.
let zone = ZoneResolver(records: [
    DNSRecord(name: name("example.net"), type: 15, ttl: 300, data: .mx(preference: 10, exchange: name("mx1.example.net"))),
    DNSRecord(name: name("example.net"), type: 15, ttl: 300, data: .mx(preference: 20, exchange: name("mx2.example.net"))),
    DNSRecord(name: name("mx1.example.net"), type: 1, ttl: 300, data: .a([192, 0, 2, 1])),
    DNSRecord(name: name("mx2.example.net"), type: 1, ttl: 300, data: .a([192, 0, 2, 2])),
    DNSRecord(name: name("nullmx.test"), type: 15, ttl: 300, data: .mx(preference: 0, exchange: try! DNSName(labels: []))),
    DNSRecord(name: name("nomx.test"), type: 1, ttl: 300, data: .a([192, 0, 2, 9])),
])

struct Harness {
    let store: SQLiteStore
    let clock: ManualClock
    let connector: FakeConnector
    let scheduler: DeliveryScheduler

    init(
        connector: FakeConnector = FakeConnector(), clock: ManualClock = ManualClock(), settings: (inout DeliverySettings) -> Void = { _ in },
        hosted: Set<String> = ["tern.test"], localDelivery: Bool = false, resolver: any DNSResolver = zone,
        outbound: (any OutboundConnector)? = nil
    ) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tern-delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try SQLiteStore(path: dir.appendingPathComponent("tern.sqlite").path)
        self.connector = connector
        self.clock = clock
        var s = DeliverySettings(hostname: "tern.test", retrySchedule: [60, 300], maxQueueAge: 3600)
        settings(&s)
        let router = DeliveryRouter(resolver: resolver, routes: s.routes, port: 25, isLocal: { hosted.contains($0) }, shuffle: { $0 })
        scheduler = DeliveryScheduler(
            store: store, router: router, connector: outbound ?? connector, clock: clock, settings: s, mailboxes: localDelivery ? store : nil)
    }

    /// Enqueues a message from `from` to `recipients` (each `address` or `address|NOTIFY|ORCPT`).
    @discardableResult
    func enqueue(
        from: String = "sender@tern.test", to recipients: [String], body: String = "Subject: hello\r\nMessage-ID: <m1@tern.test>\r\n\r\nBody line\r\n",
        ret: DSNReturn? = nil, envid: String? = nil
    ) async throws -> String {
        let id = QueueID.make()
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<\(from)>"), mailParameters: MailParameters(ret: ret, envelopeID: envid),
            recipients: try recipients.map { spec in
                let parts = spec.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                return EnvelopeRecipient(
                    path: try ForwardPath(parsing: "<\(parts[0])>"),
                    parameters: RecipientParameters(
                        notify: parts.count > 1 && !parts[1].isEmpty ? DSNNotify(parameter: parts[1]) : nil,
                        originalRecipient: parts.count > 2 ? OriginalRecipient(parameter: parts[2]) : nil))
            })
        try await store.enqueue(
            IncomingMessage(id: id, envelope: envelope, content: Data(body.utf8), receivedAt: clock.now(), clientAddress: "127.0.0.1", heloName: "c"))
        return id
    }

    func message(_ id: String) async throws -> QueuedMessage { try await store.queuedMessage(id: id)! }

    /// Bounces in the queue (reverse path `<>`), with their content.
    func bounces() async throws -> [(QueuedMessage, String)] {
        var out: [(QueuedMessage, String)] = []
        // A bounce already delivered has had its content deleted (issue 12 item 7); its bytes
        // are what the connector was given.
        var sent = connector.sent.filter { $0.message.reversePath == .null }
        for m in try await store.listQueue() where m.from == .null {
            if let content = try await store.content(id: m.id) {
                out.append((m, String(decoding: content, as: UTF8.self)))
            } else if let index = sent.firstIndex(where: { $0.message.recipients.map(\.address) == m.recipients.map(\.address) }) {
                out.append((m, String(decoding: sent.remove(at: index).message.content, as: UTF8.self)))
            } else {
                Issue.record("bounce \(m.id) has neither content nor a delivery")
            }
        }
        return out
    }
}

// MARK: tests

@Suite struct RetryScheduleTests {
    @Test func intervalsThenTheLastRepeatsThenExpiry() {
        let schedule = RetrySchedule(intervals: [60, 300, 900], maxQueueAge: 5000)
        #expect(schedule.decide(attempts: 1, queuedAt: 0, now: 10) == .retry(at: 70))
        #expect(schedule.decide(attempts: 2, queuedAt: 0, now: 100) == .retry(at: 400))
        #expect(schedule.decide(attempts: 3, queuedAt: 0, now: 1000) == .retry(at: 1900))
        #expect(schedule.decide(attempts: 9, queuedAt: 0, now: 2000) == .retry(at: 2900))
        // Never past the expiry: the last try is made at it, and a failure then expires.
        #expect(schedule.decide(attempts: 9, queuedAt: 0, now: 4500) == .retry(at: 5000))
        #expect(schedule.decide(attempts: 10, queuedAt: 0, now: 5000) == .expire)
    }
}

@Suite struct DeliveryRouterTests {
    let router = DeliveryRouter(
        resolver: zone, routes: ["routed.test": StaticRoute(host: "127.0.0.5", port: 2526)], port: 25, isLocal: { $0 == "tern.test" },
        shuffle: { $0 })

    @Test func mxByPreferenceThenAddresses() async {
        #expect(
            await router.route(domain: "Example.NET")
                == .remote(
                    destination: "example.net",
                    hops: [NextHop(host: "mx1.example.net", addresses: ["192.0.2.1"], port: 25), NextHop(host: "mx2.example.net", addresses: ["192.0.2.2"], port: 25)]))
    }

    @Test func implicitMXStaticRouteLocalAndLiteral() async {
        #expect(await router.route(domain: "nomx.test") == .remote(destination: "nomx.test", hops: [NextHop(host: "nomx.test", addresses: ["192.0.2.9"], port: 25)]))
        #expect(await router.route(domain: "routed.test") == .remote(destination: "127.0.0.5:2526", hops: [NextHop(host: "127.0.0.5", addresses: ["127.0.0.5"], port: 2526)]))
        #expect(await router.route(domain: "tern.test") == .local)
        #expect(await router.route(domain: "[192.0.2.7]") == .remote(destination: "[192.0.2.7]", hops: [NextHop(host: "[192.0.2.7]", addresses: ["192.0.2.7"], port: 25)]))
    }

    @Test func nullMXNXDomainAndServfail() async {
        guard case .unroutable(let nullMX) = await router.route(domain: "nullmx.test") else { Issue.record("routed"); return }
        #expect(nullMX.code == 556 && nullMX.enhanced == EnhancedStatus(5, 1, 10))
        guard case .unroutable(let nx) = await router.route(domain: "nowhere.test") else { Issue.record("routed"); return }
        #expect(nx.isPermanentFailure && nx.enhanced == EnhancedStatus(5, 1, 2))
        let failing = DeliveryRouter(
            resolver: ZoneResolver(records: zone.records, failing: [name("example.net")]), routes: [:], port: 25, isLocal: { _ in false })
        guard case .unroutable(let temporary) = await failing.route(domain: "example.net") else { Issue.record("routed"); return }
        #expect(temporary.isTransientFailure && temporary.enhanced == EnhancedStatus(4, 4, 3))
    }
}

@Suite struct DeliverySchedulerTests {
    @Test func deliversAllRecipientsOfADomainInOneTransactionAndRecordsEvents() async throws {
        let h = try Harness()
        let id = try await h.enqueue(to: ["a@example.net", "b@example.net", "c@nomx.test"])
        await h.scheduler.runUntilIdle()
        let m = try await h.message(id)
        #expect(m.recipients.map(\.state) == [.delivered, .delivered, .delivered])
        #expect(m.recipients.allSatisfy { $0.attempts == 1 && $0.lastReply == "250 2.0.0 Queued" })
        let sent = h.connector.sent
        #expect(sent.count == 2)
        #expect(Set(sent.map { $0.message.recipients.map(\.address) }) == [["a@example.net", "b@example.net"], ["c@nomx.test"]])
        #expect(sent.first { $0.address == "192.0.2.1" }?.message.content == Array("Subject: hello\r\nMessage-ID: <m1@tern.test>\r\n\r\nBody line\r\n".utf8))
        let events = try await h.store.events(messageID: id)
        #expect(events.filter { $0.type == "queued" }.count == 3)
        let delivered = events.filter { $0.type == "delivered" }
        #expect(delivered.count == 3)
        #expect(delivered.contains { $0.recipient == "a@example.net" && $0.mxHost == "mx1.example.net[192.0.2.1]" && $0.tls == "TLSv1.3" })
        #expect(try await h.bounces().isEmpty)
    }

    @Test func primaryDownMeansTheSecondaryMX() async throws {
        let h = try Harness(connector: FakeConnector(down: ["192.0.2.1"]))
        let id = try await h.enqueue(to: ["a@example.net"])
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients[0].state == .delivered)
        #expect(h.connector.connects == ["mx1.example.net[192.0.2.1]:25", "mx2.example.net[192.0.2.2]:25"])
        #expect(h.connector.sent.map(\.address) == ["192.0.2.2"])
    }

    @Test func transientFailureIsRetriedOnScheduleThenDelivered() async throws {
        let connector = FakeConnector { _, n in
            n == 1 ? SMTPReply(451, EnhancedStatus(4, 7, 1), "Greylisted, try later") : SMTPReply(250, EnhancedStatus(2, 0, 0), "OK")
        }
        let h = try Harness(connector: connector)
        let id = try await h.enqueue(to: ["a@example.net"])
        let queuedAt = h.clock.now()
        await h.scheduler.runUntilIdle()
        var r = try await h.message(id).recipients[0]
        #expect(r.state == .deferred && r.attempts == 1 && r.lastReply == "451 4.7.1 Greylisted, try later")
        #expect(r.nextAttemptAt == queuedAt + 60)
        // Not yet due: nothing happens.
        h.clock.advance(59)
        await h.scheduler.runUntilIdle()
        #expect(connector.sent.count == 1)
        h.clock.advance(1)
        await h.scheduler.runUntilIdle()
        r = try await h.message(id).recipients[0]
        #expect(r.state == .delivered && r.attempts == 2)
        #expect(try await h.store.events(messageID: id).map(\.type) == ["queued", "deferred", "delivered"])
        #expect(try await h.bounces().isEmpty)
    }

    @Test func permanentFailureBouncesWithAFieldByFieldDSN() async throws {
        let h = try Harness(connector: FakeConnector { rcpt, _ in
            rcpt.hasPrefix("gone") ? SMTPReply(550, EnhancedStatus(5, 1, 1), "<gone@example.net>: Recipient address rejected") : SMTPReply(250, nil, "OK")
        })
        let id = try await h.enqueue(to: ["ok@example.net", "gone@example.net||rfc822;Gone+2BOriginal@example.net"], envid: "ENV-42")
        await h.scheduler.runUntilIdle()
        let m = try await h.message(id)
        #expect(m.recipients.map(\.state) == [.delivered, .bounced])
        let bounces = try await h.bounces()
        try #require(bounces.count == 1)
        let (dsn, text) = bounces[0]
        #expect(dsn.recipients.map(\.address) == ["sender@tern.test"])
        #expect(text.contains("From: Mail Delivery System <MAILER-DAEMON@tern.test>\r\n"))
        #expect(text.contains("To: <sender@tern.test>\r\n"))
        #expect(text.contains("Subject: Undelivered Mail Returned to Sender\r\n"))
        #expect(text.contains("Auto-Submitted: auto-replied\r\n"))
        #expect(text.contains("Content-Type: multipart/report; report-type=delivery-status;"))
        #expect(text.contains("Reporting-MTA: dns; tern.test\r\n"))
        #expect(text.contains("Original-Envelope-Id: ENV-42\r\n"))
        #expect(text.contains("Arrival-Date: "))
        #expect(text.contains("Final-Recipient: rfc822; gone@example.net\r\n"))
        #expect(text.contains("Original-Recipient: rfc822; Gone+Original@example.net\r\n"))
        #expect(text.contains("Action: failed\r\nStatus: 5.1.1\r\n"))
        #expect(text.contains("Remote-MTA: dns; mx1.example.net\r\n"))
        #expect(text.contains("Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected\r\n"))
        // The delivered recipient is not reported; RET absent means the full message comes back.
        #expect(!text.contains("Final-Recipient: rfc822; ok@example.net"))
        #expect(text.contains("Content-Type: message/rfc822\r\n\r\nSubject: hello\r\nMessage-ID: <m1@tern.test>\r\n\r\nBody line\r\n"))
        #expect(text.hasSuffix("--\r\n"))
        #expect(try await h.store.events(messageID: id).contains { $0.type == "bounced" && $0.recipient == "gone@example.net" })
    }

    @Test func retHeadersReturnsOnlyTheHeader() async throws {
        let h = try Harness(connector: FakeConnector { _, _ in SMTPReply(554, EnhancedStatus(5, 7, 1), "Rejected") })
        try await h.enqueue(to: ["a@example.net"], ret: .headers)
        await h.scheduler.runUntilIdle()
        let text = try await h.bounces()[0].1
        #expect(text.contains("Content-Type: text/rfc822-headers\r\n\r\nSubject: hello\r\nMessage-ID: <m1@tern.test>\r\n\r\n"))
        #expect(!text.contains("Body line"))
    }

    @Test func noBounceForTheNullSenderOrNotifyNever() async throws {
        let h = try Harness(connector: FakeConnector { _, _ in SMTPReply(550, EnhancedStatus(5, 1, 1), "No") })
        let fromNull = try await h.enqueue(from: "", to: ["a@example.net"])
        let never = try await h.enqueue(to: ["b@example.net|NEVER"])
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(fromNull).recipients[0].state == .bounced)
        #expect(try await h.message(never).recipients[0].state == .bounced)
        #expect(try await h.bounces().map(\.0.id) == [fromNull])
    }

    @Test func nullMXBouncesAtOnceWithoutConnecting() async throws {
        let h = try Harness()
        let id = try await h.enqueue(to: ["x@nullmx.test"])
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients[0].state == .bounced)
        #expect(h.connector.connects.isEmpty)
        let text = try await h.bounces()[0].1
        #expect(text.contains("Status: 5.1.10\r\n"))
        // Tern decided, not a remote server: no Remote-MTA or smtp Diagnostic-Code.
        #expect(!text.contains("Remote-MTA:") && !text.contains("Diagnostic-Code:"))
    }

    @Test func expiryBouncesAfterMaxQueueAge() async throws {
        let h = try Harness(connector: FakeConnector(down: ["192.0.2.1", "192.0.2.2"]))
        let id = try await h.enqueue(to: ["a@example.net"])
        // 60, 300, 300… seconds apart until 3600 s have passed.
        for _ in 0..<30 {
            await h.scheduler.runUntilIdle()
            if try await h.message(id).recipients[0].state == .bounced { break }
            h.clock.advance(300)
        }
        let r = try await h.message(id).recipients[0]
        #expect(r.state == .bounced)
        #expect(r.lastReply?.contains("gave up") == true)
        #expect(r.attempts == 13)
        let text = try await h.bounces()[0].1
        #expect(text.contains("Action: failed\r\nStatus: 4.4.1\r\n"))
    }

    @Test func delayNoticeIsSentOnceWhenAskedFor() async throws {
        let h = try Harness(connector: FakeConnector { _, _ in SMTPReply(451, EnhancedStatus(4, 2, 2), "Mailbox full") }, settings: { $0.delayWarning = 0 })
        let id = try await h.enqueue(to: ["a@example.net|FAILURE,DELAY"])
        await h.scheduler.runUntilIdle()
        h.clock.advance(60)
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients[0].attempts == 2)
        let bounces = try await h.bounces()
        #expect(bounces.count == 1)
        let text = bounces[0].1
        #expect(text.contains("Subject: Delayed Mail (still being retried)"))
        #expect(text.contains("Action: delayed\r\nStatus: 4.2.2\r\n"))
        #expect(text.contains("Will-Retry-Until: "))
    }

    @Test func hostedDomainsWaitWithoutAnAttempt() async throws {
        let h = try Harness()
        let id = try await h.enqueue(to: ["user@tern.test", "a@example.net"])
        await h.scheduler.runUntilIdle()
        let m = try await h.message(id)
        #expect(m.recipients.map(\.state) == [.queued, .delivered])
        #expect(m.recipients[0].attempts == 0)
        #expect(h.connector.sent.count == 1)
    }

    @Test func anExpiredLeaseIsDueAgainAndDeliveredOnce() async throws {
        let h = try Harness()
        let id = try await h.enqueue(to: ["a@example.net"])
        // A scheduler that leased and then died: the recipient stays `delivering` until the lease ends.
        let leased = try await h.store.leaseDue(now: h.clock.now(), leaseUntil: h.clock.now() + 600, limit: 10)
        #expect(leased.count == 1)
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients[0].state == .delivering)
        #expect(h.connector.sent.isEmpty)
        h.clock.advance(600)
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients[0].state == .delivered)
        #expect(h.connector.sent.count == 1)
        h.clock.advance(10_000)
        await h.scheduler.runUntilIdle()
        #expect(h.connector.sent.count == 1)
    }

    @Test func perDestinationConcurrencyIsBoundedAndConnectionsAreReused() async throws {
        let connector = FakeConnector(delay: .milliseconds(5))
        let h = try Harness(connector: connector, settings: { $0.maxConnectionsPerDestination = 3 })
        for i in 0..<30 { try await h.enqueue(to: ["r\(i)@example.net"]) }
        await h.scheduler.runUntilIdle()
        #expect(connector.sent.count == 30)
        #expect(connector.state.withLock { $0.maxOpen } <= 3)
        #expect(connector.connects.count <= 3)
        #expect(connector.state.withLock { $0.open } == 0)
    }

    @Test func aBacklogGoesOutInFullBatchesOverFewSessions() async throws {
        let connector = FakeConnector()
        let h = try Harness(connector: connector)
        for i in 0..<20 { try await h.enqueue(to: ["r\(i)@example.net"]) }
        await h.scheduler.runUntilIdle()
        #expect(connector.sent.count == 20)
        // One session per 8 waiting messages (20 → 3), not one per message.
        #expect(connector.connects.count == 3)
    }


    @Test func anIdleSessionCarriesTheNextMessageThenClosesAfterItsIdleTime() async throws {
        let connector = FakeConnector()
        let h = try Harness(connector: connector, settings: { $0.connectionIdleTime = 2 })
        let running = Task { await h.scheduler.run() }
        defer { running.cancel() }
        let first = try await h.enqueue(to: ["a@example.net"])
        h.scheduler.wake()
        #expect(try await eventually(20) { try await h.message(first).recipients[0].state == .delivered })
        let second = try await h.enqueue(to: ["b@example.net"])
        h.scheduler.wake()
        #expect(try await eventually(20) { try await h.message(second).recipients[0].state == .delivered })
        #expect(connector.connects.count == 1)
        #expect(connector.state.withLock { $0.open } == 1)
        // Still open one idle second later (delivery's clock, moved by the test)...
        h.clock.advance(1)
        #expect(await !eventually(0.2) { connector.state.withLock { $0.open } == 0 })
        // ...closed past its idle time, and the next message opens a new one.
        h.clock.advance(1)
        #expect(await eventually(5) { connector.state.withLock { $0.open } == 0 })
        let third = try await h.enqueue(to: ["c@example.net"])
        h.scheduler.wake()
        #expect(try await eventually(5) { try await h.message(third).recipients[0].state == .delivered })
        #expect(connector.connects.count == 2)
        await h.scheduler.stop()
        #expect(await eventually(5) { connector.state.withLock { $0.open } == 0 })
    }

    @Test func stopWaitsForTheBatchInHandAndItsRecordedOutcome() async throws {
        // A slow peer (0.3 s per message): `run` returns only after the session finished and
        // its outcome was written, since every session is a child of run's task group.
        let connector = FakeConnector(delay: .milliseconds(300))
        let h = try Harness(connector: connector)
        let id = try await h.enqueue(to: ["a@example.net"])
        let running = Task { await h.scheduler.run() }
        #expect(await eventually(20) { connector.state.withLock { $0.open } == 1 })
        await h.scheduler.stop()
        await running.value
        #expect(try await h.message(id).recipients[0].state == .delivered)
        #expect(connector.state.withLock { $0.open } == 0)
    }

    @Test func aPeerThatNeverAnswersIsAbortedWhenTheGraceTimeHasPassed() async throws {
        let connector = FakeConnector(hangs: true)
        let h = try Harness(connector: connector)
        let id = try await h.enqueue(to: ["a@example.net"])
        let running = Task { await h.scheduler.run() }
        let ended = Mutex(false)
        let watcher = Task {
            await running.value
            ended.withLock { $0 = true }
        }
        #expect(await eventually(20) { connector.state.withLock { $0.open } == 1 })
        await h.scheduler.stop(grace: .seconds(30))
        // Within the grace time the session is left to finish...
        h.clock.advance(29)
        #expect(await !eventually(0.3) { ended.withLock { $0 } })
        // ...past it, it is aborted, its transaction deferred and recorded, and run returns.
        h.clock.advance(1)
        #expect(await eventually(20) { ended.withLock { $0 } })
        await watcher.value
        let r = try await h.message(id).recipients[0]
        #expect(r.state == .deferred && r.attempts == 1)
        #expect(r.lastReply?.contains("shutting down") == true)
        #expect(connector.state.withLock { $0.open } == 0)
    }

    @Test func cancellingRunAbortsItsSessions() async throws {
        let connector = FakeConnector(hangs: true)
        let h = try Harness(connector: connector)
        _ = try await h.enqueue(to: ["a@example.net"])
        let running = Task { await h.scheduler.run() }
        #expect(await eventually(20) { connector.state.withLock { $0.open } == 1 })
        running.cancel()
        let ended = Mutex(false)
        let watcher = Task {
            await running.value
            ended.withLock { $0 = true }
        }
        // No clock moves: cancellation alone ends the hanging session and run.
        #expect(await eventually(20) { ended.withLock { $0 } })
        await watcher.value
        #expect(connector.state.withLock { $0.open } == 0)
    }

    @Test func anIdleSessionGivesUpItsSlotToAnotherDestination() async throws {
        let connector = FakeConnector()
        let h = try Harness(connector: connector, settings: { $0.connectionIdleTime = 60; $0.maxConnections = 1 })
        let running = Task { await h.scheduler.run() }
        defer { running.cancel() }
        let first = try await h.enqueue(to: ["a@example.net"])
        h.scheduler.wake()
        #expect(try await eventually(20) { try await h.message(first).recipients[0].state == .delivered })
        let second = try await h.enqueue(to: ["b@nomx.test"])
        h.scheduler.wake()
        #expect(try await eventually(20) { try await h.message(second).recipients[0].state == .delivered })
        #expect(connector.connects == ["mx1.example.net[192.0.2.1]:25", "nomx.test[192.0.2.9]:25"])
        #expect(connector.state.withLock { $0.maxOpen } == 1)
        await h.scheduler.stop()
    }

    @Test func aLeaseThatRunsOutWhileHeldIsNotSentTwice() async throws {
        // One session, and every message takes 700 s of queue time: both leases (600 s) run
        // out while the batch is being sent, and a later pass leases the recipients again.
        let clock = ManualClock()
        let connector = FakeConnector(clockStepPerMessage: (clock, 700))
        let h = try Harness(connector: connector, clock: clock, settings: { $0.maxConnectionsPerDestination = 1 })
        let first = try await h.enqueue(to: ["a@example.net"])
        let second = try await h.enqueue(to: ["b@example.net"])
        for _ in 0..<5 { await h.scheduler.runUntilIdle() }
        #expect(try await h.message(first).recipients[0].state == .delivered)
        #expect(try await h.message(second).recipients[0].state == .delivered)
        let sent = connector.sent.map { $0.message.recipients[0].address }
        #expect(sent.sorted() == ["a@example.net", "b@example.net"])
    }

    @Test func manyRecipientsAreSplitIntoTransactions() async throws {
        let h = try Harness(settings: { $0.maxRecipientsPerTransaction = 2 })
        let id = try await h.enqueue(to: (0..<5).map { "r\($0)@example.net" })
        await h.scheduler.runUntilIdle()
        #expect(h.connector.sent.map { $0.message.recipients.count }.sorted() == [1, 2, 2])
        #expect(try await h.message(id).recipients.allSatisfy { $0.state == .delivered })
    }

    @Test func retryNowMakesDeferredRecipientsDue() async throws {
        let h = try Harness(connector: FakeConnector { _, n in n == 1 ? SMTPReply(421, EnhancedStatus(4, 3, 2), "Busy") : SMTPReply(250, nil, "OK") })
        let id = try await h.enqueue(to: ["a@example.net"])
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients[0].state == .deferred)
        #expect(try await h.store.retryNow(id: id, at: h.clock.now()) == 1)
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients[0].state == .delivered)
    }
}

@Suite struct LocalDeliveryTests {
    func harness() async throws -> Harness {
        let h = try Harness(localDelivery: true)
        try await h.store.addDomain("tern.test")
        for name in ["user", "other"] {
            try await h.store.addUser(MailUser(address: "\(name)@tern.test", passwordHash: "x", plan: "free", createdAt: 0))
        }
        return h
    }

    func inbox(_ h: Harness, _ user: String, _ folder: String = "INBOX") async throws -> [[UInt8]] {
        let mailbox = try #require(try await h.store.mailbox(user: user, name: folder))
        var out: [[UInt8]] = []
        for message in try await h.store.messages(mailboxID: mailbox.id) {
            out.append(try #require(try await h.store.content(mailboxID: mailbox.id, uid: message.uid)))
        }
        return out
    }

    @Test func aUserGetsTheMessageOnceWithTraceFieldsInFront() async throws {
        let h = try await harness()
        let body = "Subject: hello\r\nMessage-ID: <m1@tern.test>\r\n\r\nBody line\r\n"
        let id = try await h.enqueue(from: "sender@example.net", to: ["user@tern.test", "other@tern.test", "a@example.net"], body: body)
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(id).recipients.map(\.state) == [.delivered, .delivered, .delivered])
        #expect(try await inbox(h, "user@tern.test") == [Array("Return-Path: <sender@example.net>\r\nDelivered-To: user@tern.test\r\n\(body)".utf8)])
        #expect(try await inbox(h, "other@tern.test").count == 1)
        let mailbox = try #require(try await h.store.mailbox(user: "user@tern.test", name: "INBOX"))
        #expect(mailbox.uidNext == 2 && mailbox.messages == 1)
        // Stored once: both mailbox rows point at the one queue message.
        #expect(try await h.store.messages(mailboxID: mailbox.id).map(\.messageID) == [id])
        // Running again changes nothing (the recipients are final).
        await h.scheduler.runUntilIdle()
        #expect(try await inbox(h, "user@tern.test").count == 1)
    }

    @Test func aRepeatedOutcomeWritesTheMailboxOnce() async throws {
        let h = try await harness()
        let id = try await h.enqueue(to: ["user@tern.test"])
        let outcome = DeliveryOutcome(
            messageID: id, position: 0, recipient: "user@tern.test", state: .delivered, reply: "250", nextAttemptAt: nil,
            mailbox: MailboxDelivery(user: "user@tern.test", folder: "INBOX", prefix: []))
        try await h.store.record([outcome], bounces: [], at: 1)
        try await h.store.record([outcome], bounces: [], at: 2)
        #expect(try await inbox(h, "user@tern.test").count == 1)
    }

    @Test func subaddressAliasCatchAllAndQuarantine() async throws {
        let h = try await harness()
        try await h.store.addAlias("team@tern.test", targets: ["user@tern.test", "far@example.net"])
        try await h.store.setCatchAll(domain: "tern.test", target: "other@tern.test")
        let id = try await h.enqueue(to: ["user+news@tern.test", "team@tern.test", "nobody@tern.test"])
        await h.scheduler.runUntilIdle()
        await h.scheduler.runUntilIdle()  // the expanded recipients
        let m = try await h.message(id)
        #expect(m.recipients.map(\.address) == ["user+news@tern.test", "team@tern.test", "nobody@tern.test", "far@example.net", "user@tern.test", "other@tern.test"])
        #expect(m.recipients.allSatisfy { $0.state == .delivered })
        #expect(m.recipients[1].lastReply?.hasPrefix("250 2.1.5") == true)
        // ORCPT of an expanded recipient names the alias (RFC 3461 §4.2).
        #expect(
            m.recipients[3].originalRecipient == OriginalRecipient(parameter: "rfc822;team@tern.test")
                && m.recipients[4].originalRecipient == OriginalRecipient(parameter: "rfc822;team@tern.test"))
        #expect(try await inbox(h, "user@tern.test").count == 2)  // as user+news, and through the alias
        #expect(try await inbox(h, "other@tern.test").count == 1)  // the catch-all
        #expect(h.connector.sent.map { $0.message.recipients.map(\.address) } == [["far@example.net"]])
        // Quarantined mail goes to Junk.
        var junk = try message(id: QueueID.make(), to: ["user@tern.test"])
        junk.quarantine = "dmarc"
        try await h.store.enqueue(junk)
        await h.scheduler.runUntilIdle()
        #expect(try await inbox(h, "user@tern.test", "Junk").count == 1)
    }

    /// Issue 12 item 3: `<Postmaster>` and `postmaster@` a hosted domain were accepted and then
    /// bounced to whatever sender the client named. They go to the postmaster's mailbox.
    @Test func postmasterIsDeliveredNeverBounced() async throws {
        let h = try await harness()
        let id = try await h.enqueue(from: "forged@example.net", to: ["Postmaster", "POSTMASTER@tern.test"])
        await h.scheduler.runUntilIdle()
        let m = try await h.message(id)
        #expect(m.recipients.count == 3)  // the two, and the expansion to the postmaster's mailbox
        #expect(m.recipients.allSatisfy { $0.state == .delivered }, "\(m.recipients)")
        #expect(try await inbox(h, "user@tern.test").count == 1)  // the first user added; once for both
        #expect(try await h.bounces().isEmpty)
        #expect(h.connector.sent.isEmpty)

        let configured = try Harness(settings: { $0.postmaster = "other@tern.test" }, localDelivery: true)
        try await configured.store.addDomain("tern.test")
        for name in ["user", "other"] {
            try await configured.store.addUser(MailUser(address: "\(name)@tern.test", passwordHash: "x", plan: "free", createdAt: 0))
        }
        _ = try await configured.enqueue(from: "forged@example.net", to: ["postmaster@tern.test"])
        await configured.scheduler.runUntilIdle()
        #expect(try await inbox(configured, "other@tern.test").count == 1)
        #expect(try await inbox(configured, "user@tern.test").isEmpty)
    }

    @Test func unknownAndFullMailboxesBounce() async throws {
        let h = try await harness()
        try await h.store.setQuota(user: "user@tern.test", bytes: 10)
        let first = try await h.enqueue(to: ["user@tern.test"])
        await h.scheduler.runUntilIdle()
        #expect(try await h.message(first).recipients[0].state == .delivered)  // under quota until now
        #expect(try h.store.recipientStatus(domain: "tern.test", address: "user@tern.test") == .overQuota)
        // From a remote sender, so the bounce is delivered through the connector, which keeps
        // its bytes (a delivered bounce's content is deleted from the store).
        let second = try await h.enqueue(from: "s@example.net", to: ["user@tern.test", "ghost@tern.test"])
        await h.scheduler.runUntilIdle()
        let m = try await h.message(second)
        #expect(m.recipients.map(\.state) == [.bounced, .bounced])
        #expect(m.recipients[0].lastReply?.hasPrefix("552 5.2.2") == true)
        #expect(m.recipients[1].lastReply?.hasPrefix("550 5.1.1") == true)
        let bounces = try await h.bounces()
        #expect(bounces.count == 1 && bounces[0].1.contains("Status: 5.2.2") && bounces[0].1.contains("Status: 5.1.1"))
    }

    func message(id: String, to recipients: [String]) throws -> IncomingMessage {
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<s@example.net>"), mailParameters: MailParameters(),
            recipients: try recipients.map { EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>"), parameters: RecipientParameters()) })
        return IncomingMessage(id: id, envelope: envelope, content: Data("Subject: junk\r\n\r\nx\r\n".utf8), receivedAt: 0, clientAddress: nil, heloName: nil)
    }
}
