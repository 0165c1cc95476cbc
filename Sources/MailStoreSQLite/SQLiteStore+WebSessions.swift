import Foundation
import GRDB
import MailStore

extension SQLiteStore: WebSessionRepository {
    public func createWebSession(_ session: WebSessionRecord) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO web_sessions(token_hash, user, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [Data(session.tokenHash), session.user, session.csrf, session.createdAt, session.expiresAt])
        }
    }

    public func webSession(tokenHash: [UInt8], now: Int) async throws(StoreError) -> WebSessionRecord? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT user, csrf, created_at, expires_at FROM web_sessions WHERE token_hash = ? AND expires_at > ?",
                arguments: [Data(tokenHash), now]
            ).map { row in
                WebSessionRecord(tokenHash: tokenHash, user: row["user"], csrf: row["csrf"], createdAt: row["created_at"], expiresAt: row["expires_at"])
            }
        }
    }

    public func deleteWebSession(tokenHash: [UInt8]) async throws(StoreError) {
        try await write { db in try db.execute(sql: "DELETE FROM web_sessions WHERE token_hash = ?", arguments: [Data(tokenHash)]) }
    }

    public func deleteExpiredWebSessions(now: Int) async throws(StoreError) -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM web_sessions WHERE expires_at <= ?", arguments: [now])
            return db.changesCount
        }
    }
}
