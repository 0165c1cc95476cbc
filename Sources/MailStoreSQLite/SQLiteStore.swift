import Foundation
import GRDB
import MailCore
import MailStore

/// The embedded default store: one SQLite database in WAL mode with `synchronous=FULL`, so a
/// committed transaction is on stable storage. Several processes (the server and admin commands)
/// may open it at once.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    let spool: GroupCommitSpool
    let path: String
    /// `user+tag@domain` reaches `user@domain` (RFC 5233 sub-addressing); "" turns it off.
    public let subaddressSeparator: String
    /// Wakes IMAP sessions when a user's folders change in this process.
    public let mailboxSignals = MailboxSignals()

    public init(path: String, subaddressSeparator: String = "+") throws(StoreError) {
        self.subaddressSeparator = subaddressSeparator
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL commits are durable only with FULL (NORMAL may lose the last transactions on
            // power loss), and the queue must never lose a message it answered 250 for.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Checkpoints run beside the writer (see `WALCheckpointer`), never inside a commit
            // that sessions are waiting for.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            // Whatever is deleted (a message's content, a POP3 DELE, a removed user's password
            // hash) is overwritten with zeros, not left readable in free pages of the file. It
            // costs a WAL page per freed page: about 0.05 ms of CPU per relayed 4 KiB message
            // (bench/relay); turning it on only around content deletion measured no cheaper.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB turns WAL on for the writer *after* prepareDatabase and sets synchronous =
            // NORMAL while doing it, which syncs only at checkpoints: a power loss could take
            // commits that were already answered 250. Set FULL again on the writer itself.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.storeError(error)
        }
        spool = GroupCommitSpool(pool: pool, subaddressSeparator: subaddressSeparator)
        let signals = mailboxSignals
        spool.observe { report in
            if !report.delivered.isEmpty { signals.changed(report.delivered.map(\.user)) }
        }
    }

    /// `observer` sees each durable group commit: what went into mailboxes at once, and whether
    /// anything waits for delivery (the server wakes its scheduler then). It runs on the commit
    /// thread before the senders are answered, so it must be quick.
    public func observeCommits(_ observer: @escaping @Sendable (CommitReport) -> Void) {
        spool.observe(observer)
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL), for the durability test.
    public func writerSynchronousMode() throws(StoreError) -> Int {
        do {
            return try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Starts checkpointing the WAL in the background; the server calls this, admin commands
    /// do not (SQLite checkpoints when the last connection closes).
    public func startBackgroundCheckpoints(interval: Double = 0.25) throws(StoreError) -> WALCheckpointer {
        do {
            return try WALCheckpointer(path: path, spool: spool, interval: interval)
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_FULL: return .full
            case .SQLITE_CONSTRAINT: return .alreadyExists(db.message ?? "row")
            default: return .failure(db.message ?? "\(db.resultCode)")
            }
        }
        return .failure("\(error)")
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A read on the calling thread. Mailbox reads (IMAP and POP3 commands) are short, and a
    /// WAL reader never waits for the writer, so they run where the session runs instead of
    /// hopping to a reader queue and back: two thread wake-ups saved per read (`bench/imap`).
    /// `isolated: false` skips the read transaction (BEGIN and COMMIT are two more statements),
    /// for a body that runs a single statement, which SQLite reads from one snapshot anyway.
    func readNow<T>(isolated: Bool = true, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try isolated ? pool.read(body) : pool.unsafeRead(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A write that need not reach the disk before it returns: SQLite's WAL keeps commits in
    /// order, so the next synced commit makes it durable, and a power loss can only roll it
    /// back to an earlier state. Used for what the queue can redo: leases (an unrecorded lease
    /// is just due again) and delivery outcomes (an unrecorded 250 means a duplicate after a
    /// power loss, never a loss; a process crash loses nothing either way). Saves an fsync that
    /// would otherwise hold up the accept path's group commit on the single writer.
    func writeUnsynced<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            defer { spool.noteCommit() }
            return try await pool.writeWithoutTransaction { db in
                try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute()
                defer { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            defer { spool.noteCommit() }
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }
}
