import Synchronization

/// Wakes the sessions that watch a user's folders (IMAP IDLE, and the next command of every
/// other session) when the store changed them: a delivery, an APPEND, a flag change, an
/// expunge. Process-local; sessions also look again on a timer, so a change made by another
/// process sharing the database is seen within that time.
public final class MailboxSignals: Sendable {
    private struct Waiter {
        var user: String
        var continuation: AsyncStream<Void>.Continuation
    }

    private let waiters = Mutex<[Int: Waiter]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    /// A stream that yields each time `user`'s folders change, until `stop` is called with
    /// the id. Bursts coalesce: at most one wake-up is buffered.
    public func watch(user: String) -> (id: Int, changes: AsyncStream<Void>) {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        waiters.withLock { $0[id] = Waiter(user: user.lowercased(), continuation: continuation) }
        return (id, stream)
    }

    public func stop(_ id: Int) {
        let waiter = waiters.withLock { $0.removeValue(forKey: id) }
        waiter?.continuation.finish()
    }

    /// Called after a change to `users`' folders is committed.
    public func changed(_ users: some Sequence<String>) {
        let wanted = Set(users.map { $0.lowercased() })
        guard !wanted.isEmpty else { return }
        let matching = waiters.withLock { $0.values.filter { wanted.contains($0.user) }.map(\.continuation) }
        for continuation in matching { continuation.yield() }
    }

    public var watching: Int { waiters.withLock { $0.count } }
}
