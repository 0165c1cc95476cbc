import MailStore
import PostgresNIO

/// What a running node reads besides the repositories: the operator's counts, the size of
/// the database, the wake-ups from other nodes and the shared maildrop locks.
extension PostgresStore: ServerStore {
    public func activeRecipientCounts() async throws(StoreError) -> [RecipientState: Int] {
        var counts: [RecipientState: Int] = [.queued: 0, .delivering: 0, .deferred: 0]
        for (state, count) in try await decoded(
            "SELECT state, COUNT(*) FROM recipients WHERE state IN ('queued', 'delivering', 'deferred') GROUP BY state",
            { try $0.decode((String, Int64).self) })
        {
            if let state = RecipientState(rawValue: state) { counts[state] = Int(count) }
        }
        return counts
    }

    public func webhookBacklog() async throws(StoreError) -> Int {
        try await decoded(
            """
            SELECT COALESCE(SUM((SELECT COUNT(*) FROM events e JOIN messages m ON m.id = e.message_id
                                 WHERE e.id > w.cursor AND m.auth_account = w.account AND e.type != 'delivering')), 0)::bigint
            FROM webhooks w WHERE w.enabled
            """, { Int(try $0.decode(Int64.self)) }
        ).first ?? 0
    }

    public func storageSize() async throws(StoreError) -> (location: String, bytes: Int) {
        let bytes = try await decoded("SELECT pg_database_size(current_database())", { Int(try $0.decode(Int64.self)) }).first ?? 0
        return (url.redacted, bytes)
    }

    public func makeMaildropLocks() -> any MaildropLocking { PostgresMaildropLocks(store: self) }
}
