import Foundation
import GRDB
import MailCore
import MailStore

extension SQLiteStore: WebhookRepository {
    public func addWebhook(_ webhook: EventWebhook) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhooks(id, account, url, enabled, friendly_name, events, signing_key, created_at, updated_at, cursor,
                                         failures, next_attempt_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    webhook.id, webhook.account, webhook.url, webhook.enabled, webhook.friendlyName, webhook.events.sorted().joined(separator: " "),
                    webhook.signingKey, webhook.createdAt, webhook.updatedAt, webhook.cursor, webhook.failures, webhook.nextAttemptAt,
                ])
        }
    }

    public func webhooks(account: String) async throws(StoreError) -> [EventWebhook] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhooks WHERE account = ? ORDER BY created_at, id", arguments: [account]).map(Self.webhook(from:))
        }
    }

    public func webhook(id: String) async throws(StoreError) -> EventWebhook? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [id]).map(Self.webhook(from:)) }
    }

    public func updateWebhookSettings(_ webhook: EventWebhook) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE webhooks SET url = ?, enabled = ?, friendly_name = ?, events = ?, signing_key = ?, updated_at = ?,
                        failures = CASE WHEN url = ? THEN failures ELSE 0 END,
                        next_attempt_at = CASE WHEN url = ? THEN next_attempt_at ELSE 0 END
                    WHERE id = ?
                    """,
                arguments: [
                    webhook.url, webhook.enabled, webhook.friendlyName, webhook.events.sorted().joined(separator: " "), webhook.signingKey,
                    webhook.updatedAt, webhook.url, webhook.url, webhook.id,
                ])
            return db.changesCount > 0
        }
    }

    public func removeWebhook(id: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func dueWebhooks(now: Int) async throws(StoreError) -> [EventWebhook] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhooks WHERE enabled AND next_attempt_at <= ? ORDER BY id", arguments: [now])
                .map(Self.webhook(from:))
        }
    }

    /// One node: `dueWebhooks` claims nothing, so there is nothing to release.
    public func releaseWebhook(id: String, nextAttemptAt: Int) async throws(StoreError) {}

    public func events(account: String, after cursor: Int, limit: Int) async throws(StoreError) -> [AccountEvent] {
        try await read { db in
            // Events ids grow with commit order here (one writer), so a cursor never skips a row.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id AS event_id, e.at, e.recipient, e.type, e.mx_host, e.tls, e.reply, e.attempt, e.details, \(Self.activityColumns)
                    FROM events e JOIN messages m ON m.id = e.message_id JOIN recipients r ON r.message_id = e.message_id AND r.position = e.position
                    WHERE e.id > ? AND m.auth_account = ? ORDER BY e.id LIMIT ?
                    """, arguments: [cursor, account, limit])
            return rows.map { row in
                let recipient = Self.activity(from: row)
                let event = QueueEvent(
                    id: row["event_id"], at: row["at"], messageID: recipient.queueID, recipient: row["recipient"], type: row["type"],
                    mxHost: row["mx_host"], tls: row["tls"], reply: row["reply"], position: recipient.position, attempt: row["attempt"],
                    details: row["details"])
                return AccountEvent(event: event, recipient: recipient)
            }
        }
    }

    public func recordWebhookDelivery(id: String, cursor: Int, failures: Int, nextAttemptAt: Int, attempt: WebhookAttempt?) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE webhooks SET cursor = MAX(cursor, ?), failures = ?, next_attempt_at = ? WHERE id = ?",
                arguments: [cursor, failures, nextAttemptAt, id])
            if let attempt, db.changesCount > 0 { try Self.log(attempt, in: db) }
        }
    }

    public func recordWebhookAttempt(_ attempt: WebhookAttempt) async throws(StoreError) {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE id = ?", arguments: [attempt.webhookID]) == true else { return }
            try Self.log(attempt, in: db)
        }
    }

    public func webhookAttempts(webhookID: String, limit: Int) async throws(StoreError) -> [WebhookAttempt] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [webhookID, min(limit, WebhookAttempt.kept)]
            ).map { row in
                WebhookAttempt(
                    webhookID: row["webhook_id"], at: row["at"], outcome: WebhookAttempt.Outcome(rawValue: row["outcome"]) ?? .failed,
                    events: row["events"], status: row["status"], error: row["error"], retry: row["retry"], milliseconds: row["milliseconds"])
            }
        }
    }

    /// Appends to the log and drops what falls past the newest `WebhookAttempt.kept`, so the log
    /// of a receiver that fails for days stays the same size.
    static func log(_ attempt: WebhookAttempt, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO webhook_attempts(webhook_id, at, outcome, events, status, error, retry, milliseconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                attempt.webhookID, attempt.at, attempt.outcome.rawValue, attempt.events, attempt.status, attempt.error, attempt.retry,
                attempt.milliseconds,
            ])
        try db.execute(
            sql: """
                DELETE FROM webhook_attempts WHERE webhook_id = ?1 AND id <= (
                    SELECT id FROM webhook_attempts WHERE webhook_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)
                """, arguments: [attempt.webhookID, WebhookAttempt.kept])
    }

    public func lastEventID() async throws(StoreError) -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT MAX(id) FROM events") ?? 0 }
    }

    static func webhook(from row: Row) -> EventWebhook {
        EventWebhook(
            id: row["id"], account: row["account"], url: row["url"], enabled: row["enabled"], friendlyName: row["friendly_name"],
            events: Set((row["events"] as String).split(separator: " ").map(String.init)), signingKey: row["signing_key"],
            createdAt: row["created_at"], updatedAt: row["updated_at"], cursor: row["cursor"], failures: row["failures"],
            nextAttemptAt: row["next_attempt_at"])
    }
}

extension SQLiteStore: ServerStore {
    /// The database file and its write-ahead log.
    public func storageSize() async throws(StoreError) -> (location: String, bytes: Int) {
        let bytes = [path, path + "-wal"].reduce(0) { total, file in
            total + (((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0)
        }
        return (path, bytes)
    }

    /// One process serves the embedded store: every commit is its own, seen by `observeCommits`.
    public func observeQueue(_ observer: @escaping @Sendable () -> Void) {}

    public func makeMaildropLocks() -> any MaildropLocking { MaildropLocks() }

    /// Recipients waiting or in flight, by state (the final states are history, not queue).
    /// Each count walks the state index only, so a scrape costs the size of the queue.
    public func activeRecipientCounts() async throws(StoreError) -> [RecipientState: Int] {
        try await read { db in
            var counts: [RecipientState: Int] = [.queued: 0, .delivering: 0, .deferred: 0]
            for state in counts.keys {
                counts[state] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM recipients WHERE state = ?", arguments: [state.rawValue]) ?? 0
            }
            return counts
        }
    }

    /// Events not yet handed to the enabled webhooks that want them, summed over webhooks.
    public func webhookBacklog() async throws(StoreError) -> Int {
        try await read { db in
            var total = 0
            for row in try Row.fetchAll(db, sql: "SELECT account, cursor FROM webhooks WHERE enabled") {
                total += try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM events e JOIN messages m ON m.id = e.message_id
                        WHERE e.id > ? AND m.auth_account = ? AND e.type != 'delivering'
                        """, arguments: [row["cursor"] as Int, row["account"] as String]) ?? 0
            }
            return total
        }
    }
}
