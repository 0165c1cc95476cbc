/// Outbound sessions with nothing to send, parked per destination until work for it comes, their
/// idle time runs out, or their slot is wanted elsewhere (Postfix's connection cache plays the
/// same part). Pure bookkeeping: time (a `DeliveryClock.elapsed()` reading) is passed in, and
/// each method returns the parked sessions it releases for the caller to resume.
struct IdleSessionPool<Waiter> {
    private struct Parked {
        var waiter: Waiter
        var since: Duration
    }

    private var parked: [String: [Int: Parked]] = [:]
    private var nextToken = 0

    /// Sessions parked right now, over every destination.
    var count: Int { parked.values.reduce(0) { $0 + $1.count } }
    var isEmpty: Bool { parked.isEmpty }

    mutating func park(_ waiter: Waiter, for destination: String, at now: Duration) {
        parked[destination, default: [:]][nextToken] = Parked(waiter: waiter, since: now)
        nextToken += 1
    }

    /// Up to `count` sessions of `destination`, oldest first, to carry new work.
    mutating func wake(_ destination: String, count: Int) -> [Waiter] {
        guard count > 0, let sessions = parked[destination] else { return [] }
        let tokens = sessions.keys.sorted().prefix(count)
        var woken: [Waiter] = []
        for token in tokens { woken.append(parked[destination]!.removeValue(forKey: token)!.waiter) }
        if parked[destination]?.isEmpty == true { parked[destination] = nil }
        return woken
    }

    /// Sessions idle for `limit` or longer at `now`: to close.
    mutating func expire(at now: Duration, limit: Duration) -> [Waiter] {
        var expired: [Waiter] = []
        for (destination, sessions) in parked {
            for (token, session) in sessions where now - session.since >= limit {
                parked[destination]?.removeValue(forKey: token)
                expired.append(session.waiter)
            }
            if parked[destination]?.isEmpty == true { parked[destination] = nil }
        }
        return expired
    }

    /// When the longest-parked session reaches `limit`; nil when none is parked.
    func nextExpiry(limit: Duration) -> Duration? {
        parked.values.flatMap { $0.values.map(\.since) }.min().map { $0 + limit }
    }

    /// One session of another destination than `destination`, to close so its slot is free.
    mutating func takeOne(except destination: String) -> Waiter? {
        for (other, sessions) in parked where other != destination {
            guard let token = sessions.keys.min() else { continue }
            let waiter = parked[other]!.removeValue(forKey: token)!.waiter
            if parked[other]?.isEmpty == true { parked[other] = nil }
            return waiter
        }
        return nil
    }

    /// Every parked session, to close (shutdown).
    mutating func takeAll() -> [Waiter] {
        defer { parked = [:] }
        return parked.values.flatMap { $0.values.map(\.waiter) }
    }
}
