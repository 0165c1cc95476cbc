import Foundation
import GRDB
import MailCore
import MailStore

extension SQLiteStore: QueueRepository {
    /// Durable once this returns: the group-commit spool has committed the transaction that
    /// holds the message (and possibly many others that arrived in the same window).
    public func enqueue(_ message: IncomingMessage, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        spool.submit(message, completion: completion)
    }

    public func listQueue() async throws(StoreError) -> [QueuedMessage] {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT \(Self.messageColumns) FROM messages ORDER BY created_at, id")
            let recipients = try Self.recipientsByMessage(db, sql: "SELECT * FROM recipients ORDER BY message_id, position")
            return rows.map { Self.message(from: $0, recipients: recipients[$0["id"] as String] ?? []) }
        }
    }

    public func queuedMessage(id: String) async throws(StoreError) -> QueuedMessage? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.messageColumns) FROM messages WHERE id = ?", arguments: [id]) else {
                return nil
            }
            let recipients = try Self.recipientsByMessage(
                db, sql: "SELECT * FROM recipients WHERE message_id = ? ORDER BY position", arguments: [id])
            return Self.message(from: row, recipients: recipients[id] ?? [])
        }
    }

    public func content(id: String) async throws(StoreError) -> [UInt8]? {
        try await read { db in
            try Data.fetchOne(db, sql: "SELECT content FROM messages WHERE id = ?", arguments: [id]).map { Array($0) }
        }
    }

    public func removeQueued(id: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM recipients WHERE message_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM messages WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    static let messageColumns =
        "id, message_id, reverse_path, size, created_at, client_address, helo, dsn_ret, envid, body_type, smtputf8, auth_account"

    static func message(from row: Row, recipients: [QueuedRecipient]) -> QueuedMessage {
        QueuedMessage(
            id: row["id"], messageID: row["message_id"], from: row["reverse_path"], size: row["size"],
            createdAt: row["created_at"], recipients: recipients, clientAddress: row["client_address"],
            heloName: row["helo"], dsnReturn: row["dsn_ret"], envelopeID: row["envid"], bodyType: row["body_type"],
            smtpUTF8: row["smtputf8"], authenticatedAs: row["auth_account"])
    }

    static func recipientsByMessage(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [String: [QueuedRecipient]] {
        var result: [String: [QueuedRecipient]] = [:]
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            let recipient = QueuedRecipient(
                address: row["address"], state: RecipientState(rawValue: row["state"]) ?? .queued, attempts: row["attempts"],
                lastReply: row["last_reply"], notify: row["notify"], originalRecipient: row["orcpt"])
            result[row["message_id"], default: []].append(recipient)
        }
        return result
    }

    /// Writes one message and its recipients inside the caller's transaction.
    static func insert(_ message: IncomingMessage, into db: Database) throws {
        let q = message.queued
        // Cached statements: the hot path never re-parses SQL.
        try db.cachedStatement(
            sql: """
                INSERT INTO messages(id, message_id, reverse_path, size, created_at, client_address, helo, dsn_ret,
                                     envid, body_type, smtputf8, auth_account, content)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                q.id, q.messageID, q.from, q.size, q.createdAt, q.clientAddress, q.heloName, q.dsnReturn, q.envelopeID,
                q.bodyType, q.smtpUTF8, q.authenticatedAs, message.content,
            ])
        for (position, recipient) in q.recipients.enumerated() {
            try db.cachedStatement(
                sql: """
                    INSERT INTO recipients(message_id, position, address, state, notify, orcpt, next_attempt_at)
                    VALUES (?, ?, ?, 'queued', ?, ?, ?)
                    """
            ).execute(
                arguments: [q.id, position, recipient.address, recipient.notify, recipient.originalRecipient, q.createdAt])
        }
    }
}
