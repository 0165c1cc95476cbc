import Synchronization

/// Connection caps, connection rate and AUTH-failure throttling for every protocol at once.
///
/// One instance serves SMTP, POP3, IMAP and HTTP logins, so ten wrong passwords over POP3 block
/// SMTP AUTH from the same client too. Clients are counted by `ClientKey` (an IPv4 address or an
/// IPv6 /64). Over a connection cap the front end answers with its protocol's temporary refusal
/// (SMTP `421 4.7.0`, RFC 5321 §3.8); a failed login is answered later and later (the delay
/// depends only on the count, never on whether the user exists), then the client may not log in
/// for `authBlockTime`. Memory is bounded: at most `maximumTrackedClients` records of each kind.
public final class AbuseLimits: Sendable {
    /// The limits, from `[limits]`.
    public struct Settings: Sendable, Equatable {
        public var maximumConnections: Int
        public var maximumConnectionsPerClient: Int
        /// New connections per client per minute; 0 is unlimited (as Postfix's default).
        public var maximumConnectionRatePerMinute: Int
        public var authFailuresBeforeDelay: Int
        public var authFailuresBeforeBlock: Int
        /// Failures older than this are forgotten.
        public var authFailureWindow: Duration
        public var authBlockTime: Duration

        public init(
            maximumConnections: Int = 1000, maximumConnectionsPerClient: Int = 100, maximumConnectionRatePerMinute: Int = 0,
            authFailuresBeforeDelay: Int = 3, authFailuresBeforeBlock: Int = 10, authFailureWindow: Duration = .seconds(15 * 60),
            authBlockTime: Duration = .seconds(5 * 60)
        ) {
            self.maximumConnections = maximumConnections
            self.maximumConnectionsPerClient = maximumConnectionsPerClient
            self.maximumConnectionRatePerMinute = maximumConnectionRatePerMinute
            self.authFailuresBeforeDelay = authFailuresBeforeDelay
            self.authFailuresBeforeBlock = authFailuresBeforeBlock
            self.authFailureWindow = authFailureWindow
            self.authBlockTime = authBlockTime
        }
    }

    /// Why a connection was turned away.
    public enum ConnectionRefusal: Sendable, Equatable {
        case tooManyConnections
        case connectionRate
    }

    /// What a failed login costs the client.
    public struct FailurePenalty: Sendable, Equatable {
        /// How long to hold the failure's answer.
        public var delay: Duration
        /// Whether the client may not log in again until its cool-down ends.
        public var blocked: Bool
    }

    private struct Failures {
        var count: Int
        var windowStart: ContinuousClock.Instant
        var blockedUntil: ContinuousClock.Instant?
    }

    private struct Connections {
        var total = 0
        var perClient: [ClientKey: Int] = [:]
        /// Connections opened per client in the current one-minute window.
        var opened: [ClientKey: (windowStart: ContinuousClock.Instant, count: Int)] = [:]
    }

    public let settings: Settings
    /// Bounds the failure and rate tables; past it the oldest knowledge is dropped wholesale.
    public static let maximumTrackedClients = 100_000
    private let failures = Mutex<[ClientKey: Failures]>([:])
    private let connections = Mutex(Connections())

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    // MARK: - Connections

    /// Takes a connection slot for `address`, or says which limit refused it.
    public func openConnection(from address: String, now: ContinuousClock.Instant = .now) -> ConnectionRefusal? {
        let key = ClientKey(address: address)
        let settings = self.settings
        return connections.withLock { state in
            guard state.total < settings.maximumConnections, state.perClient[key, default: 0] < settings.maximumConnectionsPerClient else {
                return .tooManyConnections
            }
            if settings.maximumConnectionRatePerMinute > 0 {
                var window = state.opened[key] ?? (now, 0)
                if now - window.windowStart >= .seconds(60) { window = (now, 0) }
                guard window.count < settings.maximumConnectionRatePerMinute else { return .connectionRate }
                window.count += 1
                if state.opened.count >= Self.maximumTrackedClients { state.opened.removeAll(keepingCapacity: true) }
                state.opened[key] = window
            }
            state.total += 1
            state.perClient[key, default: 0] += 1
            return nil
        }
    }

    /// Gives back the slot `openConnection` took.
    public func closeConnection(from address: String) {
        let key = ClientKey(address: address)
        connections.withLock { state in
            state.total -= 1
            let left = state.perClient[key, default: 1] - 1
            state.perClient[key] = left > 0 ? left : nil
        }
    }

    /// Connections open right now, over every protocol.
    public var openConnections: Int { connections.withLock { $0.total } }

    // MARK: - Logins

    /// Whether `address` is in its cool-down and may not try to log in.
    public func loginBlocked(from address: String, now: ContinuousClock.Instant = .now) -> Bool {
        let key = ClientKey(address: address)
        return failures.withLock { table in
            guard let until = table[key]?.blockedUntil else { return false }
            if until > now { return true }
            table[key] = nil
            return false
        }
    }

    /// Records a failed login: how long to hold the answer, and whether the client is now blocked.
    public func loginFailed(from address: String, protocol name: String, now: ContinuousClock.Instant = .now) -> FailurePenalty {
        ServiceMetrics.authFailure(protocol: name)
        let key = ClientKey(address: address)
        let settings = self.settings
        return failures.withLock { table in
            var record = table[key] ?? Failures(count: 0, windowStart: now, blockedUntil: nil)
            if now - record.windowStart > settings.authFailureWindow { record = Failures(count: 0, windowStart: now, blockedUntil: nil) }
            record.count += 1
            var blocked = false
            if record.count >= settings.authFailuresBeforeBlock {
                record.blockedUntil = now + settings.authBlockTime
                blocked = true
            }
            if table.count >= Self.maximumTrackedClients { table.removeAll(keepingCapacity: true) }
            table[key] = record
            // One more second for each failure past the free ones, at most 5.
            let extra = record.count - settings.authFailuresBeforeDelay
            return FailurePenalty(delay: extra > 0 ? .seconds(min(extra, 5)) : .zero, blocked: blocked)
        }
    }

    /// A successful login clears the client's failures.
    public func loginSucceeded(from address: String) {
        let key = ClientKey(address: address)
        _ = failures.withLock { $0.removeValue(forKey: key) }
    }
}
