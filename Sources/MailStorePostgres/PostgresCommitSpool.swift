import Logging
import MailStore
import PostgresNIO
import Synchronization

/// Group commit on PostgreSQL: messages finished while a commit is in flight wait, then go
/// together in the next transaction (at most `maximumBatch` submissions), so one commit's
/// flush to disk answers many sessions, as SQLite's spool does. A plan's limits are checked
/// and charged in the same transaction, one row at a time under its lock
/// (`INSERT … ON CONFLICT DO UPDATE … WHERE count + n <= limit`), so nodes sending for one
/// account at once never pass its limit together.
final class PostgresCommitSpool: Sendable {
    struct Pending: Sendable {
        var messages: [IncomingMessage]
        var completion: @Sendable (Result<Void, StoreError>) -> Void
    }

    private struct State {
        var pending: [Pending] = []
        var flushing = false
    }

    private let state = Mutex(State())
    let observers = Mutex<[@Sendable (CommitReport) -> Void]>([])
    static let maximumBatch = 512

    /// Queues a submission; true when the caller must start the flush loop.
    func add(_ pending: Pending) -> Bool {
        state.withLock { state in
            state.pending.append(pending)
            if state.flushing { return false }
            state.flushing = true
            return true
        }
    }

    /// The next batch, or nil (and the loop ends) when nothing waits.
    func take() -> [Pending]? {
        state.withLock { state in
            if state.pending.isEmpty {
                state.flushing = false
                return nil
            }
            let count = min(state.pending.count, Self.maximumBatch)
            defer { state.pending.removeFirst(count) }
            return Array(state.pending.prefix(count))
        }
    }
}

extension PostgresStore {
    /// Runs `observer` after each commit that stored something (what it delivered at once, and
    /// whether the scheduler has work).
    public func observeCommits(_ observer: @escaping @Sendable (CommitReport) -> Void) {
        spool.observers.withLock { $0.append(observer) }
    }

    func submit(_ messages: [IncomingMessage], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        guard spool.add(PostgresCommitSpool.Pending(messages: messages, completion: completion)) else { return }
        // The loop ends when nothing waits; the next submission starts another.
        Task { await self.flushSpool() }
    }

    private func flushSpool() async {
        while let batch = spool.take() { await commit(batch) }
    }

    private func commit(_ batch: [PostgresCommitSpool.Pending]) async {
        do {
            let (refusals, report) = try await transaction { connection -> ([StoreError?], CommitReport) in
                var refusals: [StoreError?] = []
                var report = CommitReport()
                for (index, item) in batch.enumerated() {
                    // A submission over its account's limit is refused alone: its charges are
                    // rolled back to the savepoint, and the rest of the batch commits. (One
                    // with nothing to charge cannot be refused, and needs no savepoint.)
                    let charges = item.messages.compactMap(\.charge)
                    if !charges.isEmpty {
                        try await connection.query("SAVEPOINT item\(unescaped: String(index))", logger: self.logger)
                        if let reached = try await Self.charge(charges, connection, logger: self.logger) {
                            try await connection.query("ROLLBACK TO SAVEPOINT item\(unescaped: String(index))", logger: self.logger)
                            refusals.append(.limitReached(reached))
                            continue
                        }
                    }
                    for message in item.messages {
                        let inserted = try await self.insert(message, connection)
                        report.delivered += inserted.delivered
                        report.leftQueued = report.leftQueued || inserted.leftQueued
                        report.dropped += inserted.dropped
                    }
                    refusals.append(nil)
                }
                // Delivered at commit to every node's scheduler.
                if report.leftQueued { try await connection.query("SELECT pg_notify(\(Self.queueChannel), '')", logger: self.logger) }
                return (refusals, report)
            }
            if !refusals.allSatisfy({ $0 != nil }) {
                for observer in spool.observers.withLock({ $0 }) { observer(report) }
            }
            for (item, refusal) in zip(batch, refusals) { item.completion(refusal.map { .failure($0) } ?? .success(())) }
        } catch {
            guard batch.count > 1 else {
                batch[0].completion(.failure(Self.storeError(error)))
                return
            }
            // One bad message must not fail its neighbours: each again on its own.
            for item in batch { await commit([item]) }
        }
    }

    /// Charges every limit of `charges`, or returns the first one that would be passed (the
    /// caller rolls back what was charged before it).
    static func charge(_ charges: [UsageCharge], _ connection: PostgresConnection, logger: Logger) async throws -> UsageLimit? {
        var units: [String: (account: String, limit: UsageLimit, units: Int)] = [:]
        var order: [String] = []
        for charge in charges {
            for limit in charge.limits {
                let key = charge.account.lowercased() + "\u{0}" + limit.period
                if units[key] == nil {
                    order.append(key)
                    units[key] = (charge.account, limit, 0)
                }
                units[key]!.units += limit.units(recipients: charge.recipients)
            }
        }
        for key in order {
            let (account, limit, count) = units[key]!
            if count > limit.limit { return limit }
            let charged = try await connection.query(
                """
                INSERT INTO usage(account, period, count) VALUES (\(account), \(limit.period), \(Int64(count)))
                ON CONFLICT (account, period) DO UPDATE SET count = usage.count + EXCLUDED.count
                WHERE usage.count + EXCLUDED.count <= \(Int64(limit.limit))
                RETURNING 1
                """, logger: logger
            ).collect()
            if charged.isEmpty { return limit }
        }
        return nil
    }
}
