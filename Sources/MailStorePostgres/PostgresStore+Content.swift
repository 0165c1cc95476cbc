import Logging
import MailStore
import PostgresNIO

extension PostgresStore {
    /// The most of a header section kept after the content is deleted (as SQLite's store).
    public static let keptHeaderLimit: Int32 = 64 * 1024

    /// SQLite's `deleteContentIfUnreferenced`, in PostgreSQL: once every recipient is done and no
    /// mailbox or sandbox holds the message, its content goes; an account's own message keeps
    /// its header section (when it ends within `keptHeaderLimit` bytes).
    static func deleteContentIfUnreferenced(_ connection: PostgresConnection, messageID: String, at: Int, logger: Logger) async throws {
        try await deleteContentIfUnreferenced(connection, messageIDs: [messageID], at: at, logger: logger)
    }

    /// The same for several messages in one statement (an outcome batch's finished messages).
    static func deleteContentIfUnreferenced(_ connection: PostgresConnection, messageIDs: [String], at: Int, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE messages m SET content_deleted_at = \(Int64(at)), content = CASE
                WHEN m.auth_account IS NULL OR position('\\x0d0a0d0a'::bytea IN substring(m.content FROM 1 FOR \(keptHeaderLimit))) = 0 THEN ''::bytea
                ELSE substring(m.content FROM 1 FOR position('\\x0d0a0d0a'::bytea IN substring(m.content FROM 1 FOR \(keptHeaderLimit))) + 1) END
            WHERE m.id = ANY(\(messageIDs)) AND m.content_deleted_at IS NULL AND NOT m.sandbox
              AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state NOT IN ('delivered', 'bounced', 'dropped'))
              AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id)
            """, logger: logger)
    }
}
