import Logging
import MailCore
import MailStore
import SMTPProtocol

/// The delivery engine (DESIGN.md "The delivery path"): leases due recipients, routes them,
/// groups them by destination into transactions (all recipients of one message and domain in
/// one, up to `maxRecipientsPerTransaction`), runs up to `maxConnectionsPerDestination` sessions
/// per destination that each carry message after message, and records every outcome — with the
/// DSNs it causes — in one transaction per batch.
///
/// Nothing is lost across a crash: a recipient is `delivering` only under a lease that expires,
/// and its outcome is written as soon as the peer has answered; a crash between the peer's 250
/// and that write is the only case that sends a message twice (RFC 5321 §6.1 prefers a
/// duplicate to a loss).
public actor DeliveryScheduler {
    let store: any DeliveryQueue
    let router: DeliveryRouter
    let connector: any OutboundConnector
    let clock: any DeliveryClock
    let settings: DeliverySettings
    let schedule: RetrySchedule
    let logger: Logger
    /// Hosted recipients' mailboxes; nil keeps their mail queued (no local delivery).
    let mailboxes: (any MailboxRepository)?

    struct Unit: Sendable {
        var message: QueuedMessage
        var recipients: [LeasedRecipient]
    }

    private struct Destination {
        var hops: [NextHop]
        var pending: [Unit] = []
        var connections = 0
        /// Sessions this destination may have now (issue 12 item 11): it starts small and grows
        /// by one with each batch the peer answered, up to `maxConnectionsPerDestination`, and
        /// halves when a connection cannot be opened. A tarpit that never answers stays at its
        /// initial window, so it cannot take the connection slots other destinations need
        /// (Postfix's initial_destination_concurrency and its feedback do the same).
        var window = DeliveryScheduler.initialWindow
    }

    /// Sessions a destination starts with before it has answered anything.
    static let initialWindow = 4

    private var destinations: [String: Destination] = [:]
    private var connections = 0
    var inFlight = 0
    /// When the leases of what is in flight were last pushed forward.
    var lastRenewal = 0
    var pending = OutcomeBatch()
    var recording = false
    var activeTasks = 0
    let signal = WakeSignal()

    public init(
        store: any DeliveryQueue, router: DeliveryRouter, connector: any OutboundConnector, clock: any DeliveryClock = SystemDeliveryClock(),
        settings: DeliverySettings, logger: Logger = Logger(label: "tern.delivery"), mailboxes: (any MailboxRepository)? = nil
    ) {
        self.mailboxes = mailboxes
        self.store = store
        self.router = router
        self.connector = connector
        self.clock = clock
        self.settings = settings
        self.schedule = RetrySchedule(intervals: settings.retrySchedule, maxQueueAge: settings.maxQueueAge)
        self.logger = logger
    }

    /// New mail was committed, or a retry was asked for: look at the queue now.
    public nonisolated func wake() { signal.fire() }

    /// Runs until `stop(grace:)`, or until the calling task is cancelled (which aborts open
    /// sessions at once). Sessions, the outcome recorder and the idle reaper are children of
    /// this call's task group: when `run` returns, nothing it started is still running.
    public func run() async {
        await host { scheduler in await scheduler.leaseLoop() }
    }

    private func leaseLoop() async {
        while !stopping {
            if Task.isCancelled {
                stop(grace: .zero)
                break
            }
            await renewLeasesIfDue()
            let leased = await pass()
            if leased > 0 {
                // Under a steady stream every commit wakes the scheduler; leasing a handful at
                // a time costs a write transaction each. A short pause lets the next lease
                // carry more (a full one goes on at once).
                if leased < Self.leaseBatch / 4 { await clock.sleep(for: .milliseconds(10)) }
                continue
            }
            // A `tern queue retry` from another process is seen within this many seconds.
            var wait = 5.0
            if inFlight < settings.maxInFlight, let next = try? await store.nextDueTime() {
                wait = min(wait, Double(next - clock.now()))
            }
            await signal.wait(seconds: max(wait, 0.05), clock: clock)
        }
    }

    /// Leases and dispatches everything due now, then waits until every attempt is recorded.
    /// For tests; `run()` is the server's loop.
    public func runUntilIdle() async {
        await host { scheduler in
            while await scheduler.pass() > 0 {}
            while scheduler.activeTasks > scheduler.idle.count {
                // No polling: a session ending or parking, or outcomes being recorded, wakes this.
                await withCheckedContinuation { scheduler.activityWaiters.append($0) }
                while await scheduler.pass() > 0 {}
            }
            // Idle sessions close, so a test sees every connection closed; `host` returns once
            // they have.
            scheduler.closeAllIdle()
        }
    }

    // MARK: structured work (issue 11 item 4)

    /// What the hosting task group does next.
    private enum HostInstruction {
        case start(@Sendable () async -> Void)
        case finish
    }

    /// Work asked for while the host was busy adding the previous child.
    private var startable: [@Sendable () async -> Void] = []
    private var hostWaiter: CheckedContinuation<HostInstruction, Never>?
    private var hosting = false
    private var driving = false

    /// Runs `driver` and everything the scheduler starts meanwhile (sessions, the recorder, the
    /// idle reaper, the shutdown deadline) as children of one task group; returns when the
    /// driver has returned and no session or recording is left.
    private func host(_ driver: @escaping @Sendable (isolated DeliveryScheduler) async -> Void) async {
        precondition(!hosting, "one run() or runUntilIdle() at a time")
        hosting = true
        driving = true
        defer { hosting = false }
        await withDiscardingTaskGroup { group in
            group.addTask {
                await driver(self)
                await self.driverEnded()
            }
            while true {
                switch await nextInstruction() {
                case .start(let job): group.addTask(operation: job)
                case .finish:
                    // What is left waits on a timer (the idle reaper, the shutdown deadline):
                    // nothing to wait for.
                    group.cancelAll()
                    return
                }
            }
        }
    }

    private func driverEnded() {
        driving = false
        nudgeHost()
    }

    /// Starts `job` as a child of the running host.
    func start(_ job: @escaping @Sendable () async -> Void) {
        startable.append(job)
        nudgeHost()
    }

    private func readyInstruction() -> HostInstruction? {
        if !startable.isEmpty { return .start(startable.removeFirst()) }
        if !driving && activeTasks == 0 { return .finish }
        return nil
    }

    private func nextInstruction() async -> HostInstruction {
        if let ready = readyInstruction() { return ready }
        return await withCheckedContinuation { hostWaiter = $0 }
    }

    private func nudgeHost() {
        guard let waiter = hostWaiter, let ready = readyInstruction() else { return }
        hostWaiter = nil
        waiter.resume(returning: ready)
    }

    /// `runUntilIdle` waiting for the next change in what runs.
    private var activityWaiters: [CheckedContinuation<Void, Never>] = []

    func noteActivity() {
        let waiters = activityWaiters
        activityWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Attempts still running (sessions and the recorder).
    public var busy: Bool { activeTasks > 0 }

    /// While anything is in flight, its leases are pushed forward every third of a lease, so
    /// they never run out under a recipient still being delivered (another node would take it).
    private func renewLeasesIfDue() async {
        let now = clock.now()
        guard inFlight > 0, now - lastRenewal >= max(1, settings.leaseSeconds / 3) else { return }
        lastRenewal = now
        do {
            _ = try await store.renewLeases(until: now + settings.leaseSeconds)
        } catch {
            logger.error("cannot renew the queue's leases", metadata: ["error": "\(error)"])
        }
    }

    /// Recipients leased at once, at most.
    static let leaseBatch = 500

    /// One lease of due recipients, dispatched; returns how many were leased.
    private func pass() async -> Int {
        let now = clock.now()
        let room = settings.maxInFlight - inFlight
        guard room > 0 else { return 0 }
        let claimed: [LeasedMessage]
        do {
            claimed = try await store.leaseDue(now: now, leaseUntil: now + settings.leaseSeconds, limit: min(room, Self.leaseBatch))
        } catch {
            logger.error("cannot lease from the queue", metadata: ["error": "\(error)"])
            return 0
        }
        guard !claimed.isEmpty else { return 0 }
        let leasedCount = claimed.reduce(0) { $0 + $1.recipients.count }
        // A lease can run out while this process still holds the recipient (a long backlog
        // for a slow destination, a batch of slow transactions); the next lease then returns
        // it again. What is held already is not dispatched twice: the held copy goes on, and
        // its outcome ends the new lease too. Leases are renewed while held (`renewLeasesIfDue`), so
        // with several nodes this happens only when a node could not renew in time.
        var fresh: [LeasedMessage] = []
        for var item in claimed {
            item.recipients.removeAll { !holding.insert(Self.key(item.message.id, $0.position)).inserted }
            if !item.recipients.isEmpty { fresh.append(item) }
        }
        let leased = fresh
        inFlight += leased.reduce(0) { $0 + $1.recipients.count }
        // Recipients by domain, each domain's messages in lease order.
        var byDomain: [String: [(QueuedMessage, [LeasedRecipient])]] = [:]
        var order: [String] = []
        for item in leased {
            var mine: [String: [LeasedRecipient]] = [:]
            var mineOrder: [String] = []
            for recipient in item.recipients {
                let domain = Self.domain(of: recipient.address)
                if mine[domain] == nil { mineOrder.append(domain) }
                mine[domain, default: []].append(recipient)
            }
            for domain in mineOrder {
                if byDomain[domain] == nil { order.append(domain) }
                byDomain[domain, default: []].append((item.message, mine[domain]!))
            }
        }
        // Every domain's route is looked up at once, each within the route deadline, and its
        // mail is dispatched as soon as its own route is known: one slow destination never holds
        // back the rest of the pass.
        let router = self.router
        let deadline = settings.routeDeadline
        let clock = self.clock
        await withTaskGroup(of: (String, DeliveryRoute).self) { group in
            for domain in order {
                // The bare <Postmaster> (RFC 5321 §4.1.1.3) has no domain: it is this server's.
                group.addTask { (domain, domain.isEmpty ? .local : await router.route(domain: domain, within: deadline, clock: clock)) }
            }
            for await (domain, route) in group {
                for (message, recipients) in byDomain[domain] ?? [] {
                    await dispatch(message, recipients, route: route, now: now)
                }
                if case .remote(let destination, _) = route { startWorkers(destination) }
            }
        }
        return leasedCount
    }

    /// Hands one message's recipients in one domain to the route's way of delivery.
    private func dispatch(_ message: QueuedMessage, _ recipients: [LeasedRecipient], route: DeliveryRoute, now: Int) async {
        switch route {
        case .local:
            if let mailboxes {
                await deliverLocally(message, recipients, mailboxes: mailboxes, now: now)
                return
            }
            // Without a mailbox store the recipient waits, and the wait is not an attempt.
            submit(
                recipients.map {
                    DeliveryOutcome(
                        messageID: message.id, position: $0.position, recipient: $0.address, state: .queued, reply: nil,
                        nextAttemptAt: now + settings.localRecheck, countsAsAttempt: false)
                }, bounces: [])
        case .unroutable(let reply):
            let unit = Unit(message: message, recipients: recipients)
            await conclude(unit, results: recipients.map { _ in RecipientResult(reply: reply, fromRemote: false) }, details: nil, content: nil)
        case .remote(let destination, let hops):
            var entry = destinations[destination] ?? Destination(hops: hops)
            entry.hops = hops
            var start = 0
            while start < recipients.count {
                let end = min(start + settings.maxRecipientsPerTransaction, recipients.count)
                entry.pending.append(Unit(message: message, recipients: Array(recipients[start..<end])))
                start = end
            }
            destinations[destination] = entry
        }
    }

    static func domain(of address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }

    /// Sessions one destination needs for what waits for it: one per `batchSize` units, woken
    /// from the idle ones first (they are connected already), new ones up to the limits.
    private func startWorkers(_ key: String) {
        guard !stopping, let pending = destinations[key]?.pending.count, pending > 0 else { return }
        let window = min(destinations[key]?.window ?? Self.initialWindow, settings.maxConnectionsPerDestination)
        let needed = min(window, (pending + Self.batchSize - 1) / Self.batchSize)
        for session in idle.wake(key, count: needed) { session.resume(returning: true) }
        while var entry = destinations[key], entry.connections < needed {
            if connections >= settings.maxConnections {
                // Every slot is taken; a session idling for another destination gives its up
                // (it calls back here as it closes).
                closeOneIdle(except: key)
                return
            }
            entry.connections += 1
            destinations[key] = entry
            connections += 1
            activeTasks += 1
            start { await self.work(key) }
        }
    }

    /// Sessions with nothing to send, parked until work for their destination comes.
    private var idle = IdleSessionPool<CheckedContinuation<Bool, Never>>()
    private var reaping = false

    /// Parks the calling session; true when work arrived, false when it should close.
    private func waitForWork(_ key: String) async -> Bool {
        if !reaping {
            reaping = true
            start { await self.reapIdle() }
        }
        return await withCheckedContinuation { continuation in
            idle.park(continuation, for: key, at: clock.elapsed())
            noteActivity()
        }
    }

    /// Closes sessions idle longer than `connectionIdleTime`; one task for all of them, running
    /// only while some session idles.
    private func reapIdle() async {
        let limit = Duration.milliseconds(Int(settings.connectionIdleTime * 1000))
        while let due = idle.nextExpiry(limit: limit) {
            let wait = due - clock.elapsed()
            if wait > .zero { await clock.sleep(for: wait) }
            for session in idle.expire(at: clock.elapsed(), limit: limit) { session.resume(returning: false) }
        }
        reaping = false
    }

    private func closeOneIdle(except key: String) {
        idle.takeOne(except: key)?.resume(returning: false)
    }

    private func closeAllIdle() {
        for session in idle.takeAll() { session.resume(returning: false) }
    }

    /// Up to `batchSize` units for one session.
    private func takeBatch(_ key: String) -> [Unit] {
        guard !stopping, var entry = destinations[key], !entry.pending.isEmpty else { return [] }
        let count = min(entry.pending.count, Self.batchSize)
        let batch = Array(entry.pending.prefix(count))
        entry.pending.removeFirst(count)
        destinations[key] = entry
        return batch
    }

    /// Recipients this process holds (pending or being sent), as `message#position`.
    var holding: Set<String> = []

    static func key(_ messageID: String, _ position: Int) -> String { "\(messageID)#\(position)" }

    /// Shutting down: sessions finish the batch in hand and take no more.
    private var stopping = false

    /// Sessions connected right now, to abort when the shutdown deadline passes.
    private var openConnections: [ObjectIdentifier: any OutboundConnection] = [:]
    private var aborting = false

    /// Stops leasing-side work from being started: sessions finish their batches and close, and
    /// their outcomes are recorded. With a `grace`, sessions still talking to a peer when it has
    /// passed are aborted (what they had not finished is deferred, and recorded as such), so a
    /// peer that never answers cannot hold up shutdown. Whatever stays leased is due again at
    /// the next start (`releaseLeases`) or lease expiry.
    public func stop(grace: Duration? = nil) {
        let first = !stopping
        stopping = true
        closeAllIdle()
        signal.fire()
        nudgeHost()
        guard let grace else { return }
        if grace <= .zero {
            abortSessions()
        } else if first, hosting {
            // The deadline is fixed now, not when the timer task first runs.
            let clock = self.clock
            let deadline = clock.elapsed() + grace
            start {
                while !Task.isCancelled, clock.elapsed() < deadline { await clock.sleep(for: deadline - clock.elapsed()) }
                if !Task.isCancelled { await self.abortSessions() }
            }
        }
    }

    private func abortSessions() {
        aborting = true
        for connection in openConnections.values { connection.abort() }
    }

    /// Messages handed to a session at once: one read of their contents, one trip to the
    /// connection's event loop, transactions back to back there. A destination gets a session
    /// per this many waiting units (up to its limit), so a steady stream goes out in full
    /// batches instead of one message per session wake-up.
    static let batchSize = 8

    private func takeAll(_ key: String) -> [Unit] {
        guard var entry = destinations[key] else { return [] }
        defer {
            entry.pending = []
            destinations[key] = entry
        }
        return entry.pending
    }

    /// One session to `key`'s hops, carrying units until the destination has had none for
    /// `connectionIdleTime`.
    private func work(_ key: String) async {
        var connection: (any OutboundConnection)?
        while true {
            let batch = takeBatch(key)
            if batch.isEmpty {
                guard let open = connection, open.isOpen, !stopping, settings.connectionIdleTime > 0, await waitForWork(key) else { break }
                continue
            }
            if let open = connection, !open.isOpen {
                openConnections[ObjectIdentifier(open)] = nil
                connection = nil
            }
            if connection == nil {
                switch await open(destinations[key]?.hops ?? []) {
                case .success(let opened):
                    connection = opened
                    openConnections[ObjectIdentifier(opened)] = opened
                    if aborting { opened.abort() }
                case .failure(let failure):
                    adjustWindow(key, answered: false)
                    // Every host failed: what waits for this destination would fail the same way.
                    let result = RecipientResult(reply: failure.reply, fromRemote: failure.fromRemote)
                    for failed in batch + takeAll(key) {
                        await conclude(failed, results: failed.recipients.map { _ in result }, details: nil, content: nil)
                    }
                    continue
                }
            }
            guard let open = connection else { continue }
            let contents: [String: [UInt8]]
            do {
                contents = try await store.contents(ids: batch.map(\.message.id))
            } catch {
                let reply = SMTPReply(451, EnhancedStatus(4, 3, 0), "Cannot read the message from the queue")
                for unit in batch {
                    await conclude(unit, results: unit.recipients.map { _ in RecipientResult(reply: reply, fromRemote: false) }, details: nil, content: nil)
                }
                continue
            }
            var sendable: [(Unit, [UInt8])] = []
            var outbound: [OutboundMessage] = []
            for var unit in batch {
                // A message removed from the queue (`tern queue remove`) while leased is skipped.
                guard let content = contents[unit.message.id] else {
                    inFlight -= unit.recipients.count
                    for recipient in unit.recipients { holding.remove(Self.key(unit.message.id, recipient.position)) }
                    continue
                }
                // Stored addresses were parsed on the way in; one that no longer parses is
                // refused here rather than sent as text nobody checked.
                var recipients: [OutboundRecipient] = []
                var kept: [LeasedRecipient] = []
                var invalid: [LeasedRecipient] = []
                for recipient in unit.recipients {
                    if let path = try? ForwardPath(parsing: "<\(recipient.address)>", allowUTF8: true) {
                        recipients.append(OutboundRecipient(path: path, notify: recipient.notify, originalRecipient: recipient.originalRecipient))
                        kept.append(recipient)
                    } else {
                        invalid.append(recipient)
                    }
                }
                if !invalid.isEmpty {
                    let result = RecipientResult(reply: SMTPReply(553, EnhancedStatus(5, 1, 3), "Invalid recipient address in the queue"), fromRemote: false)
                    await conclude(Unit(message: unit.message, recipients: invalid), results: invalid.map { _ in result }, details: nil, content: content)
                    unit.recipients = kept
                    if kept.isEmpty { continue }
                }
                sendable.append((unit, content))
                outbound.append(
                    OutboundMessage(
                        reversePath: unit.message.from, recipients: recipients, content: content, envelopeID: unit.message.envelopeID,
                        dsnReturn: unit.message.dsnReturn, requiresSMTPUTF8: unit.message.smtpUTF8 && Self.needsSMTPUTF8(unit, content: content)))
            }
            let results = outbound.isEmpty ? [] : await open.send(outbound)
            // Replies from the peer (of any kind) open the window; a session lost without
            // them closes it.
            adjustWindow(key, answered: results.contains { $0.contains { $0.fromRemote } })
            for (index, (unit, content)) in sendable.enumerated() {
                await conclude(unit, results: index < results.count ? results[index] : [], details: open.details, content: content)
            }
            if !open.isOpen {
                openConnections[ObjectIdentifier(open)] = nil
                connection = nil
            }
        }
        if let connection {
            await connection.close()
            openConnections[ObjectIdentifier(connection)] = nil
        }
        connections -= 1
        taskEnded()
        if var entry = destinations[key] {
            entry.connections -= 1
            destinations[key] = entry.connections == 0 && entry.pending.isEmpty ? nil : entry
        }
        // A freed connection slot may let another destination start.
        for (other, entry) in destinations where !entry.pending.isEmpty { startWorkers(other) }
    }

    private func adjustWindow(_ key: String, answered: Bool) {
        guard var entry = destinations[key] else { return }
        entry.window = answered ? min(entry.window + 1, settings.maxConnectionsPerDestination) : max(1, entry.window / 2)
        destinations[key] = entry
        if answered { startWorkers(key) }
    }

    /// RFC 6531 §3.2: SMTPUTF8 is needed when an address or the header is not ASCII; a message
    /// that was merely submitted with the parameter can still go to a peer without it.
    private static func needsSMTPUTF8(_ unit: Unit, content: [UInt8]) -> Bool {
        if unit.message.from.mailbox?.requiresSMTPUTF8 == true { return true }
        if unit.recipients.contains(where: { $0.address.utf8.contains { $0 >= 0x80 } }) { return true }
        var previous: UInt8 = 0
        for byte in content {
            if byte >= 0x80 { return true }
            if byte == 0x0A && (previous == 0x0A) { break }
            if byte != 0x0D { previous = byte }
        }
        return false
    }

    private func open(_ hops: [NextHop]) async -> Result<any OutboundConnection, ConnectFailure> {
        var last = ConnectFailure(reply: SMTPReply(451, EnhancedStatus(4, 4, 1), "No host to connect to"), fromRemote: false)
        for hop in hops {
            for address in hop.addresses {
                switch await connector.connect(host: hop.host, address: address, port: hop.port) {
                case .success(let connection): return .success(connection)
                case .failure(let failure):
                    logger.info("connect failed", metadata: ["host": "\(hop.host)[\(address)]:\(hop.port)", "reply": "\(failure.reply.singleLine)"])
                    last = failure
                }
            }
        }
        return .failure(last)
    }

    /// A session or the recorder finished.
    func taskEnded() {
        activeTasks -= 1
        noteActivity()
        nudgeHost()
    }
}
