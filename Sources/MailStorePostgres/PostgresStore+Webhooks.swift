import MailStore
import PostgresNIO

/// Event webhooks on PostgreSQL. The events table is the outbox, as in SQLite, with two things
/// several nodes need: a due webhook is claimed for `claimSeconds` (`FOR UPDATE SKIP LOCKED`),
/// so one node at a time posts its batches, and a node that dies mid-post is replaced once the
/// claim runs out; and a cursor moves only over events whose writing transactions have all
/// finished (`txid` below the snapshot's xmin), because identity ids are handed out at insert,
/// not at commit: an event committed later with a smaller id would otherwise be skipped.
extension PostgresStore: WebhookRepository {
    static let claimSeconds = 60

    public func addWebhook(_ webhook: EventWebhook) async throws(StoreError) {
        try await rows(
            """
            INSERT INTO webhooks(id, account, url, enabled, friendly_name, events, signing_key, created_at, updated_at, cursor, failures, next_attempt_at)
            VALUES (\(webhook.id), \(webhook.account), \(webhook.url), \(webhook.enabled), \(webhook.friendlyName),
                    \(webhook.events.sorted().joined(separator: " ")), \(webhook.signingKey), \(Int64(webhook.createdAt)), \(Int64(webhook.updatedAt)),
                    \(Int64(webhook.cursor)), \(Int32(webhook.failures)), \(Int64(webhook.nextAttemptAt)))
            """)
    }

    public func webhooks(account: String) async throws(StoreError) -> [EventWebhook] {
        try await decoded(
            "SELECT \(unescaped: Self.webhookColumns) FROM webhooks WHERE account = \(account) ORDER BY created_at, id", Self.webhook(from:))
    }

    public func webhook(id: String) async throws(StoreError) -> EventWebhook? {
        try await decoded("SELECT \(unescaped: Self.webhookColumns) FROM webhooks WHERE id = \(id)", Self.webhook(from:)).first
    }

    public func updateWebhookSettings(_ webhook: EventWebhook) async throws(StoreError) -> Bool {
        try await !rows(
            """
            UPDATE webhooks SET url = \(webhook.url), enabled = \(webhook.enabled), friendly_name = \(webhook.friendlyName),
                events = \(webhook.events.sorted().joined(separator: " ")), signing_key = \(webhook.signingKey), updated_at = \(Int64(webhook.updatedAt)),
                failures = CASE WHEN url = \(webhook.url) THEN failures ELSE 0 END,
                next_attempt_at = CASE WHEN url = \(webhook.url) THEN next_attempt_at ELSE 0 END
            WHERE id = \(webhook.id) RETURNING 1
            """
        ).isEmpty
    }

    public func removeWebhook(id: String) async throws(StoreError) -> Bool {
        try await !rows("DELETE FROM webhooks WHERE id = \(id) RETURNING 1").isEmpty
    }

    public func dueWebhooks(now: Int) async throws(StoreError) -> [EventWebhook] {
        // The rows as they were before the claim: the caller records (or releases) from them.
        try await decoded(
            """
            WITH due AS (SELECT \(unescaped: Self.webhookColumns) FROM webhooks WHERE enabled AND next_attempt_at <= \(Int64(now))
                         ORDER BY id FOR UPDATE SKIP LOCKED),
                 claimed AS (UPDATE webhooks w SET next_attempt_at = \(Int64(now + Self.claimSeconds)) FROM due WHERE w.id = due.id)
            SELECT * FROM due ORDER BY id
            """, Self.webhook(from:))
    }

    public func releaseWebhook(id: String, nextAttemptAt: Int) async throws(StoreError) {
        try await rows("UPDATE webhooks SET next_attempt_at = \(Int64(nextAttemptAt)) WHERE id = \(id)")
    }

    public func events(account: String, after cursor: Int, limit: Int) async throws(StoreError) -> [AccountEvent] {
        try await decoded(
            """
            SELECT e.id, e.at, e.recipient, e.type, e.mx_host, e.tls, e.reply, e.attempt, e.details, \(unescaped: Self.activityColumns)
            FROM events e JOIN messages m ON m.id = e.message_id JOIN recipients r ON r.message_id = e.message_id AND r.position = e.position
            WHERE e.id > \(Int64(cursor)) AND m.auth_account = \(account) AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY e.id LIMIT \(Int64(limit))
            """
        ) { row in
            let columns = try row.decode((Int64, Int64, String, String, String?, String?, String?, Int32?, String?).self)
            let recipient = try Self.activity(from: row, skipping: 9)
            let event = QueueEvent(
                id: Int(columns.0), at: Int(columns.1), messageID: recipient.queueID, recipient: columns.2, type: columns.3, mxHost: columns.4,
                tls: columns.5, reply: columns.6, position: recipient.position, attempt: columns.7.map(Int.init), details: columns.8)
            return AccountEvent(event: event, recipient: recipient)
        }
    }

    public func recordWebhookDelivery(id: String, cursor: Int, failures: Int, nextAttemptAt: Int, attempt: WebhookAttempt?) async throws(StoreError) {
        try await transaction { connection in
            let updated = try await connection.query(
                """
                UPDATE webhooks SET cursor = GREATEST(cursor, \(Int64(cursor))), failures = \(Int32(failures)), next_attempt_at = \(Int64(nextAttemptAt))
                WHERE id = \(id) RETURNING 1
                """, logger: self.logger
            ).collect()
            if let attempt, !updated.isEmpty { try await Self.log(attempt, connection, logger: self.logger) }
        }
    }

    public func recordWebhookAttempt(_ attempt: WebhookAttempt) async throws(StoreError) {
        try await transaction { connection in
            guard try await !connection.query("SELECT 1 FROM webhooks WHERE id = \(attempt.webhookID)", logger: self.logger).collect().isEmpty else { return }
            try await Self.log(attempt, connection, logger: self.logger)
        }
    }

    public func webhookAttempts(webhookID: String, limit: Int) async throws(StoreError) -> [WebhookAttempt] {
        try await decoded(
            """
            SELECT webhook_id, at, outcome, events, status, error, retry, milliseconds FROM webhook_attempts
            WHERE webhook_id = \(webhookID) ORDER BY id DESC LIMIT \(Int64(min(limit, WebhookAttempt.kept)))
            """
        ) { row in
            let (webhookID, at, outcome, events, status, error, retry, milliseconds) = try row.decode(
                (String, Int64, String, Int32, Int32?, String?, Int32, Int32).self)
            return WebhookAttempt(
                webhookID: webhookID, at: Int(at), outcome: WebhookAttempt.Outcome(rawValue: outcome) ?? .failed, events: Int(events),
                status: status.map(Int.init), error: error, retry: Int(retry), milliseconds: Int(milliseconds))
        }
    }

    /// A new webhook starts after the newest event whose transaction has finished.
    public func lastEventID() async throws(StoreError) -> Int {
        try await decoded("SELECT COALESCE(MAX(id), 0) FROM events") { Int(try $0.decode(Int64.self)) }.first ?? 0
    }

    /// Appends to the log and keeps the newest `WebhookAttempt.kept`.
    static func log(_ attempt: WebhookAttempt, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO webhook_attempts(webhook_id, at, outcome, events, status, error, retry, milliseconds)
            VALUES (\(attempt.webhookID), \(Int64(attempt.at)), \(attempt.outcome.rawValue), \(Int32(attempt.events)), \(attempt.status.map(Int32.init)),
                    \(attempt.error), \(Int32(attempt.retry)), \(Int32(clamping: attempt.milliseconds)))
            """, logger: logger)
        try await connection.query(
            """
            DELETE FROM webhook_attempts WHERE webhook_id = \(attempt.webhookID) AND id <= (
                SELECT id FROM webhook_attempts WHERE webhook_id = \(attempt.webhookID) ORDER BY id DESC OFFSET \(Int64(WebhookAttempt.kept)) LIMIT 1)
            """, logger: logger)
    }

    static let webhookColumns =
        "id, account, url, enabled, friendly_name, events, signing_key, created_at, updated_at, cursor, failures, next_attempt_at"

    static func webhook(from row: PostgresRow) throws -> EventWebhook {
        let (id, account, url, enabled, name, events, key, createdAt, updatedAt, cursor, failures, next) = try row.decode(
            (String, String, String, Bool, String?, String, String?, Int64, Int64, Int64, Int32, Int64).self)
        return EventWebhook(
            id: id, account: account, url: url, enabled: enabled, friendlyName: name, events: Set(events.split(separator: " ").map(String.init)),
            signingKey: key, createdAt: Int(createdAt), updatedAt: Int(updatedAt), cursor: Int(cursor), failures: Int(failures),
            nextAttemptAt: Int(next))
    }
}
