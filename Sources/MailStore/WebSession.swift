/// One signed-in dashboard session. The browser holds the token; the store keeps only its
/// SHA-256, so a copy of the database opens no session.
public struct WebSessionRecord: Hashable, Sendable {
    public var tokenHash: [UInt8]
    public var user: String
    /// The session's CSRF token, carried by every form of the dashboard.
    public var csrf: String
    public var createdAt: Int
    public var expiresAt: Int

    public init(tokenHash: [UInt8], user: String, csrf: String, createdAt: Int, expiresAt: Int) {
        self.tokenHash = tokenHash
        self.user = user
        self.csrf = csrf
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Dashboard sessions, shared by every node of one store.
public protocol WebSessionRepository: Sendable {
    func createWebSession(_ session: WebSessionRecord) async throws(StoreError)
    /// The session with this token hash, if it has not expired at `now`.
    func webSession(tokenHash: [UInt8], now: Int) async throws(StoreError) -> WebSessionRecord?
    func deleteWebSession(tokenHash: [UInt8]) async throws(StoreError)
    /// Forgets sessions that expired before `now`; returns how many.
    func deleteExpiredWebSessions(now: Int) async throws(StoreError) -> Int
}
