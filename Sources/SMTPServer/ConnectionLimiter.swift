import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Caps concurrent connections overall and per client address; over either cap the client
/// gets `421 4.7.0` and the connection closes (RFC 5321 §3.8 allows 421 at greeting).
public final class ConnectionLimiter: Sendable {
    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
        /// Connections opened per address in the current minute.
        var minute: Int = 0
        var openedThisMinute: [String: Int] = [:]
    }

    /// Why a connection was turned away.
    public enum Refusal: Sendable {
        case tooManyConnections
        case connectionRate
    }

    public let maximumTotal: Int
    public let maximumPerAddress: Int
    /// New connections per address per minute; 0 is unlimited (as Postfix's default).
    public let maximumRatePerMinute: Int
    private let state = Mutex(State())

    public init(maximumTotal: Int, maximumPerAddress: Int, maximumRatePerMinute: Int = 0) {
        self.maximumTotal = maximumTotal
        self.maximumPerAddress = maximumPerAddress
        self.maximumRatePerMinute = maximumRatePerMinute
    }

    /// Takes a slot for `address`, or returns false when a cap is reached.
    public func acquire(_ address: String) -> Bool {
        acquire(address, minute: Int(time(nil)) / 60) == nil
    }

    /// Takes a slot for `address` at `minute`, or says which limit refused it.
    public func acquire(_ address: String, minute: Int) -> Refusal? {
        state.withLock { state in
            guard state.total < maximumTotal, state.perAddress[address, default: 0] < maximumPerAddress else { return .tooManyConnections }
            if maximumRatePerMinute > 0 {
                if state.minute != minute {
                    state.minute = minute
                    state.openedThisMinute.removeAll(keepingCapacity: true)
                }
                guard state.openedThisMinute[address, default: 0] < maximumRatePerMinute else { return .connectionRate }
                state.openedThisMinute[address, default: 0] += 1
            }
            state.total += 1
            state.perAddress[address, default: 0] += 1
            return nil
        }
    }

    public func release(_ address: String) {
        state.withLock { state in
            state.total -= 1
            let left = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = left > 0 ? left : nil
        }
    }

    public var activeConnections: Int { state.withLock { $0.total } }
}
