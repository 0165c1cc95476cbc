/// How the delivery engine behaves; `TernServer` fills it from `[delivery]`.
public struct DeliverySettings: Sendable {
    /// Tern's name: EHLO, Reporting-MTA, the DSN's Message-ID domain.
    public var hostname: String
    /// The port dialled on MX hosts (`delivery.smtp_port`).
    public var smtpPort: Int
    /// Seconds between attempts; the last value repeats.
    public var retrySchedule: [Int]
    /// After this many seconds in the queue a deferred recipient bounces.
    public var maxQueueAge: Int
    /// Static routes, like Postfix transport maps: lowercased domain → host and port.
    public var routes: [String: StaticRoute]
    /// Connections at once to one destination (Postfix's default_destination_concurrency_limit).
    public var maxConnectionsPerDestination: Int
    /// Connections at once overall.
    public var maxConnections: Int
    /// Recipients in one transaction (Postfix's smtp_destination_recipient_limit).
    public var maxRecipientsPerTransaction: Int
    /// Seconds a session with nothing to send stays open for the next message to its
    /// destination (Postfix's smtp_connection_cache_time_limit, also 2 s): a steady stream
    /// then costs no connect, greeting and EHLO per lease. 0 closes at once.
    public var connectionIdleTime: Double
    /// How long a lease lasts; a recipient whose attempt outlives it becomes due again.
    public var leaseSeconds: Int
    /// Recipients leased and not yet recorded, at most.
    public var maxInFlight: Int
    /// A recipient with NOTIFY=DELAY gets one delay notice once its message is this old.
    public var delayWarning: Int
    /// How long a hosted-domain recipient waits before it is looked at again (local delivery
    /// comes with the mailbox store).
    public var localRecheck: Int
    /// How long finding one domain's route may take before its mail is deferred (451 4.4.3), so
    /// a slow resolver for one destination never holds back the others.
    public var routeDeadline: Double = 30
    /// Where `<Postmaster>` and `postmaster@` a hosted domain without such a user go (RFC 5321
    /// §4.5.1); nil: the first user added.
    public var postmaster: String?

    public init(
        hostname: String, smtpPort: Int = 25, retrySchedule: [Int] = [60, 300, 900, 1800, 3600, 7200, 14400], maxQueueAge: Int = 5 * 86400,
        routes: [String: StaticRoute] = [:], maxConnectionsPerDestination: Int = 20, maxConnections: Int = 100,
        maxRecipientsPerTransaction: Int = 50, connectionIdleTime: Double = 2, leaseSeconds: Int = 600, maxInFlight: Int = 2000, delayWarning: Int = 4 * 3600,
        localRecheck: Int = 300
    ) {
        precondition(!retrySchedule.isEmpty, "retry schedule must not be empty")
        self.hostname = hostname
        self.smtpPort = smtpPort
        self.retrySchedule = retrySchedule
        self.maxQueueAge = maxQueueAge
        self.routes = routes
        self.maxConnectionsPerDestination = maxConnectionsPerDestination
        self.maxConnections = maxConnections
        self.maxRecipientsPerTransaction = maxRecipientsPerTransaction
        self.connectionIdleTime = connectionIdleTime
        self.leaseSeconds = leaseSeconds
        self.maxInFlight = maxInFlight
        self.delayWarning = delayWarning
        self.localRecheck = localRecheck
    }
}

/// A fixed next hop for a domain.
public struct StaticRoute: Hashable, Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Where delivery's time comes from — queue times, and every timer (idle sessions, route
/// deadlines, the scheduler's waits) — so tests move a clock instead of sleeping.
public protocol DeliveryClock: Sendable {
    /// Unix seconds: queue times, retry times.
    func now() -> Int
    /// A monotonic reading for intervals (idle time, deadlines).
    func elapsed() -> Duration
    /// Suspends for `duration` of this clock's time.
    func sleep(for duration: Duration) async
}

/// The system's clocks.
public struct SystemDeliveryClock: DeliveryClock {
    private static let origin = ContinuousClock.now

    public init() {}
    public func now() -> Int { Int(Date().timeIntervalSince1970) }
    public func elapsed() -> Duration { ContinuousClock.now - Self.origin }
    public func sleep(for duration: Duration) async { try? await Task.sleep(for: duration) }
}

import Foundation
