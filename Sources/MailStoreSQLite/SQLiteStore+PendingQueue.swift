import Foundation
import GRDB
import MailStore

extension SQLiteStore: PendingQueueRepository {
    public func pendingRecipients(limit: Int) async throws(StoreError) -> [PendingRecipient] {
        try await read { db in
            // `recipients_due (state, next_attempt_at)` serves each state in due order.
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.message_id, m.reverse_path, r.address, r.state, r.attempts, r.next_attempt_at, r.last_reply, m.created_at,
                           m.auth_account
                    FROM recipients r JOIN messages m ON m.id = r.message_id
                    WHERE r.state IN ('queued', 'deferred', 'delivering')
                    ORDER BY r.next_attempt_at, r.message_id, r.position LIMIT ?
                    """, arguments: [max(0, limit)]
            ).map { row in
                PendingRecipient(
                    messageID: row["message_id"], from: row["reverse_path"], recipient: row["address"],
                    state: RecipientState(rawValue: row["state"]) ?? .queued, attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"],
                    lastReply: row["last_reply"], createdAt: row["created_at"], account: row["auth_account"])
            }
        }
    }
}
