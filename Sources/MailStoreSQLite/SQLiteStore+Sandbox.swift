import Foundation
import GRDB
import MailCore
import MailStore

extension SQLiteStore: SandboxRepository {
    public func isSandboxed(user: String) throws(StoreError) -> Bool {
        do {
            return try pool.read { db in
                try Bool.fetchOne(db.cachedStatement(sql: "SELECT sandbox FROM users WHERE address = ?"), arguments: [user]) ?? false
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func setSandboxed(user: String, _ sandboxed: Bool) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE users SET sandbox = ? WHERE address = ?", arguments: [sandboxed, user])
            if db.changesCount == 0 { throw StoreError.notFound("user \(user)") }
        }
    }

    public func sandboxMessages(account: String, limit: Int) async throws(StoreError) -> [SandboxMessage] {
        try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, reverse_path, subject, created_at, size FROM messages WHERE sandbox AND auth_account = ?
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """, arguments: [account, limit])
            return try rows.map { row in
                let id: String = row["id"]
                let recipients = try String.fetchAll(db, sql: "SELECT address FROM recipients WHERE message_id = ? ORDER BY position", arguments: [id])
                return SandboxMessage(
                    id: id, from: row["reverse_path"], recipients: recipients, subject: row["subject"], createdAt: row["created_at"], size: row["size"])
            }
        }
    }

    public func sandboxContent(account: String, id: String) async throws(StoreError) -> [UInt8]? {
        try await read { db in
            try Data.fetchOne(db, sql: "SELECT content FROM messages WHERE id = ? AND sandbox AND auth_account = ?", arguments: [id, account])
                .map { Array($0) }
        }
    }
}
