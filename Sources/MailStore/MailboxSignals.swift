import Synchronization

/// Wakes the sessions that watch a user's folders (IMAP IDLE, and the next command of every
/// other session) when the store changed them: a delivery, an APPEND, a flag change, an
/// expunge. Process-local; sessions also look again on a timer, so a change made by another
/// process sharing the database is seen within that time.
public final class MailboxSignals: Sendable {
    /// What changed: one folder, up to this HIGHESTMODSEQ (a session already there need not
    /// look), or, with no folder, something the session must look at.
    public struct Change: Sendable, Equatable {
        public var mailboxID: Int?
        public var modSeq: Int

        public init(mailboxID: Int?, modSeq: Int) {
            self.mailboxID = mailboxID
            self.modSeq = modSeq
        }
    }

    private struct Waiter {
        var user: String
        var continuation: AsyncStream<Change>.Continuation
    }

    private let waiters = Mutex<[Int: Waiter]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    /// A stream that yields each time `user`'s folders change, until `stop` is called with
    /// the id. A burst keeps its newest 32 changes (older ones are covered by a later poll).
    public func watch(user: String) -> (id: Int, changes: AsyncStream<Change>) {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Change>.makeStream(bufferingPolicy: .bufferingNewest(32))
        waiters.withLock { $0[id] = Waiter(user: user.lowercased(), continuation: continuation) }
        return (id, stream)
    }

    public func stop(_ id: Int) {
        let waiter = waiters.withLock { $0.removeValue(forKey: id) }
        waiter?.continuation.finish()
    }

    /// Called after a change to `users`' folders is committed (which folders, unknown).
    public func changed(_ users: some Sequence<String>) {
        let wanted = Set(users.map { $0.lowercased() })
        guard !wanted.isEmpty else { return }
        let matching = waiters.withLock { $0.values.filter { wanted.contains($0.user) }.map(\.continuation) }
        for continuation in matching { continuation.yield(Change(mailboxID: nil, modSeq: 0)) }
    }

    /// Called after a change to one folder is committed, with the folder's new HIGHESTMODSEQ.
    public func changed(user: String, mailboxID: Int, modSeq: Int) {
        let wanted = user.lowercased()
        let matching = waiters.withLock { $0.values.filter { $0.user == wanted }.map(\.continuation) }
        for continuation in matching { continuation.yield(Change(mailboxID: mailboxID, modSeq: modSeq)) }
    }

    public var watching: Int { waiters.withLock { $0.count } }
}
