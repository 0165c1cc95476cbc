/// When a deferred recipient is tried again, and when it has waited long enough (RFC 5321
/// §4.5.4.1: retry at intervals, give up after a period of days).
public struct RetrySchedule: Hashable, Sendable {
    public enum Decision: Hashable, Sendable {
        case retry(at: Int)
        /// The message is older than `maxQueueAge`: bounce.
        case expire
    }

    public var intervals: [Int]
    public var maxQueueAge: Int

    public init(intervals: [Int], maxQueueAge: Int) {
        precondition(!intervals.isEmpty)
        self.intervals = intervals
        self.maxQueueAge = maxQueueAge
    }

    /// After the `attempts`-th failed attempt (1 for the first) at `now`, for a message queued
    /// at `queuedAt`. The last interval repeats; the final try is made at the expiry time, so a
    /// recipient is never given up on before `maxQueueAge` has passed.
    public func decide(attempts: Int, queuedAt: Int, now: Int) -> Decision {
        let expiry = queuedAt + maxQueueAge
        if now >= expiry { return .expire }
        let interval = intervals[min(max(attempts, 1), intervals.count) - 1]
        return .retry(at: min(now + interval, expiry))
    }
}
