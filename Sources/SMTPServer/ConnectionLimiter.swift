import Synchronization

/// Caps concurrent connections overall and per client address; over either cap the client
/// gets `421 4.7.0` and the connection closes (RFC 5321 §3.8 allows 421 at greeting).
public final class ConnectionLimiter: Sendable {
    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    public let maximumTotal: Int
    public let maximumPerAddress: Int
    private let state = Mutex(State())

    public init(maximumTotal: Int, maximumPerAddress: Int) {
        self.maximumTotal = maximumTotal
        self.maximumPerAddress = maximumPerAddress
    }

    /// Takes a slot for `address`, or returns false when a cap is reached.
    public func acquire(_ address: String) -> Bool {
        state.withLock { state in
            guard state.total < maximumTotal, state.perAddress[address, default: 0] < maximumPerAddress else { return false }
            state.total += 1
            state.perAddress[address, default: 0] += 1
            return true
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
