import Foundation
import GRDB
import MailStore
import Synchronization

/// Group commit: every message handed in while a commit is running waits for the next one, and
/// that next commit writes them all in a single WAL transaction — one fsync for many messages
/// from many sessions. No timer is needed: under load batches grow by themselves, and an idle
/// server commits a lone message at once.
final class GroupCommitSpool: Sendable {
    /// One message, or the messages of one API request (stored together or not at all).
    private struct Pending {
        var messages: [IncomingMessage]
        var completion: @Sendable (Result<Void, StoreError>) -> Void
    }

    private struct State {
        var pending: [Pending] = []
        var flushing = false
        /// Commits since the checkpointer last looked.
        var commitsSinceCheckpoint = 0
    }

    private let pool: DatabasePool
    /// The store's sub-addressing, for delivering MX mail to mailboxes in the commit.
    private let subaddressSeparator: String
    private let state = Mutex(State())
    private let observers = Mutex<[@Sendable (CommitReport) -> Void]>([])
    private let queue = DispatchQueue(label: "tern.spool.commit")
    /// Upper bound on one transaction, so a burst cannot build an unbounded batch in memory.
    static let maximumBatch = 512

    init(pool: DatabasePool, subaddressSeparator: String) {
        self.pool = pool
        self.subaddressSeparator = subaddressSeparator
    }

    /// `observer` sees what each durable commit delivered and left queued, before the
    /// senders' completions run (on the commit thread: it must be quick).
    func observe(_ observer: @escaping @Sendable (CommitReport) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Queues `message` for the next commit; `completion` runs on the commit thread once the
    /// transaction holding it is durable (or failed). No task hop: the receiver's event loop is
    /// woken exactly once, by the completion.
    func submit(_ messages: [IncomingMessage], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        let startFlush = state.withLock { state in
            state.pending.append(Pending(messages: messages, completion: completion))
            if state.flushing { return false }
            state.flushing = true
            return true
        }
        if startFlush { queue.async { self.flushLoop() } }
    }

    private func flushLoop() {
        while true {
            let batch: [Pending]? = state.withLock { state in
                if state.pending.isEmpty {
                    state.flushing = false
                    return nil
                }
                let count = min(state.pending.count, Self.maximumBatch)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return batch
            }
            guard let batch else { return }
            commit(batch)
        }
    }

    /// The first limit these charges together would pass, read inside the writing transaction.
    static func limitReached(_ charges: [UsageCharge], in db: Database) throws -> UsageLimit? {
        var units: [String: Int] = [:]
        var order: [(account: String, limit: UsageLimit)] = []
        for charge in charges {
            for limit in charge.limits {
                let key = charge.account + "\u{0}" + limit.period
                if units[key] == nil { order.append((charge.account, limit)) }
                units[key, default: 0] += limit.units(recipients: charge.recipients)
            }
        }
        for (account, limit) in order {
            let used = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count FROM usage WHERE user = ? AND period = ?"), arguments: [account, limit.period]) ?? 0
            if used + units[account + "\u{0}" + limit.period]! > limit.limit { return limit }
        }
        return nil
    }

    static func count(_ charge: UsageCharge, in db: Database) throws {
        for limit in charge.limits {
            try db.cachedStatement(
                sql: "INSERT INTO usage(user, period, count) VALUES (?, ?, ?) ON CONFLICT(user, period) DO UPDATE SET count = count + excluded.count"
            ).execute(arguments: [charge.account, limit.period, limit.units(recipients: charge.recipients)])
        }
    }

    /// Counts a commit made outside the spool (queue outcomes, expunges, admin writes), so the
    /// checkpointer copies and then truncates the WAL for those too.
    func noteCommit() {
        state.withLock { $0.commitsSinceCheckpoint += 1 }
    }

    /// Returns and resets the number of commits since the last call.
    func takeCommitCount() -> Int {
        state.withLock { state in
            defer { state.commitsSinceCheckpoint = 0 }
            return state.commitsSinceCheckpoint
        }
    }

    private func commit(_ batch: [Pending]) {
        do {
            // A message (or request) over its account's limit is refused alone; the rest of the
            // batch commits.
            let separator = subaddressSeparator
            var report = CommitReport()
            let refusals = try pool.writeWithoutTransaction { db -> [StoreError?] in
                // Every commit that answers 250 syncs the WAL, whatever an unsynced queue write
                // before it left the connection at (see `SQLiteStore.writeUnsynced`).
                try db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute()
                var refusals: [StoreError?] = []
                report = CommitReport()
                try db.inTransaction {
                    for item in batch {
                        if let reached = try Self.limitReached(item.messages.compactMap(\.charge), in: db) {
                            refusals.append(.limitReached(reached))
                            continue
                        }
                        for message in item.messages {
                            let inserted = try SQLiteStore.insert(message, into: db, subaddressSeparator: separator)
                            report.delivered += inserted.delivered
                            report.leftQueued = report.leftQueued || inserted.leftQueued
                            report.dropped += inserted.dropped
                            if let charge = message.charge { try Self.count(charge, in: db) }
                        }
                        refusals.append(nil)
                    }
                    return .commit
                }
                return refusals
            }
            state.withLock { $0.commitsSinceCheckpoint += 1 }
            if !refusals.allSatisfy({ $0 != nil }) {
                for observer in observers.withLock({ $0 }) { observer(report) }
            }
            for (item, refusal) in zip(batch, refusals) { item.completion(refusal.map { .failure($0) } ?? .success(())) }
        } catch {
            guard batch.count > 1 else {
                batch[0].completion(.failure(SQLiteStore.storeError(error)))
                return
            }
            // One bad message must not fail its neighbours: retry each on its own.
            for item in batch { commit([item]) }
        }
    }
}
