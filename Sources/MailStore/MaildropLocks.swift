import Synchronization

/// One session at a time holds a user's maildrop (RFC 1939 §8: the server "acquires an
/// exclusive-access lock on the maildrop"), so a second POP3 client never sees or deletes
/// messages the first is about to delete.
public protocol MaildropLocking: Sendable {
    /// Takes `user`'s maildrop; false when another session holds it (on this node, or with a
    /// shared database on any node), or the lock could not be checked.
    func acquire(_ user: String) async -> Bool
    /// Lets it go; returns at once (a shared lock is removed in the background).
    func release(_ user: String)
}

/// The maildrop locks of one process (the SQLite store serves one process).
public final class MaildropLocks: MaildropLocking {
    private let held = Mutex<Set<String>>([])

    public init() {}

    public func acquire(_ user: String) -> Bool { held.withLock { $0.insert(user.lowercased()).inserted } }
    public func release(_ user: String) { _ = held.withLock { $0.remove(user.lowercased()) } }
}
