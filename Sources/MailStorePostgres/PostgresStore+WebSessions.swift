import MailStore
import NIOCore
import PostgresNIO

extension PostgresStore: WebSessionRepository {
    public func createWebSession(_ session: WebSessionRecord) async throws(StoreError) {
        try await rows(
            """
            INSERT INTO web_sessions(token_hash, account, csrf, created_at, expires_at)
            VALUES (\(ByteBuffer(bytes: session.tokenHash)), \(session.user), \(session.csrf), \(Int64(session.createdAt)), \(Int64(session.expiresAt)))
            """)
    }

    public func webSession(tokenHash: [UInt8], now: Int) async throws(StoreError) -> WebSessionRecord? {
        try await decoded(
            "SELECT account, csrf, created_at, expires_at FROM web_sessions WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND expires_at > \(Int64(now))"
        ) { row in
            let (account, csrf, createdAt, expiresAt) = try row.decode((String, String, Int64, Int64).self)
            return WebSessionRecord(tokenHash: tokenHash, user: account, csrf: csrf, createdAt: Int(createdAt), expiresAt: Int(expiresAt))
        }.first
    }

    public func deleteWebSession(tokenHash: [UInt8]) async throws(StoreError) {
        try await rows("DELETE FROM web_sessions WHERE token_hash = \(ByteBuffer(bytes: tokenHash))")
    }

    public func deleteExpiredWebSessions(now: Int) async throws(StoreError) -> Int {
        try await rows("DELETE FROM web_sessions WHERE expires_at <= \(Int64(now)) RETURNING 1").count
    }
}
