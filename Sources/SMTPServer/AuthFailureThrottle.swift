import NIOCore
import Synchronization

/// Slows and then stops password guessing from one client address. After `delayAfter` failures
/// each further failure is answered later (one more second each, up to 5); after `blockAfter`
/// failures within `window` the address may not AUTH for `blockTime`. The delay depends only on
/// the count, never on whether the user exists. Other addresses are unaffected.
public final class AuthFailureThrottle: Sendable {
    private struct Record {
        var failures: Int
        var windowStart: NIODeadline
        var blockedUntil: NIODeadline?
    }

    public let delayAfter: Int
    public let blockAfter: Int
    public let window: TimeAmount
    public let blockTime: TimeAmount
    private let records = Mutex<[String: Record]>([:])

    public init(delayAfter: Int = 3, blockAfter: Int = 10, window: TimeAmount = .minutes(15), blockTime: TimeAmount = .minutes(5)) {
        self.delayAfter = delayAfter
        self.blockAfter = blockAfter
        self.window = window
        self.blockTime = blockTime
    }

    /// Whether `address` is in its cool-down.
    public func isBlocked(_ address: String, now: NIODeadline = .now()) -> Bool {
        records.withLock { records in
            guard let until = records[address]?.blockedUntil else { return false }
            if until > now { return true }
            records[address] = nil
            return false
        }
    }

    /// Records a failure; returns how long to hold the 535, and whether the address is now blocked.
    public func recordFailure(_ address: String, now: NIODeadline = .now()) -> (delay: TimeAmount, blocked: Bool) {
        records.withLock { records in
            var record = records[address] ?? Record(failures: 0, windowStart: now, blockedUntil: nil)
            if now - record.windowStart > window { record = Record(failures: 0, windowStart: now, blockedUntil: nil) }
            record.failures += 1
            var blocked = false
            if record.failures >= blockAfter {
                record.blockedUntil = now + blockTime
                blocked = true
            }
            if records.count > 100_000 { records.removeAll(keepingCapacity: true) }  // bounded memory
            records[address] = record
            let extra = record.failures - delayAfter
            return (extra > 0 ? .seconds(Int64(min(extra, 5))) : .zero, blocked)
        }
    }

    /// A success clears the address's count.
    public func recordSuccess(_ address: String) {
        _ = records.withLock { $0.removeValue(forKey: address) }
    }
}
