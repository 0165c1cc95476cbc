import Crypto
import MailStore

/// A signed-in dashboard user, as every dashboard request sees it.
public struct WebSession: Sendable, Equatable {
    public var user: String
    /// Operators see the whole server; everyone else, their own account.
    public var isOperator: Bool
    /// The token every form must carry back (compared in constant time).
    public var csrf: String
    public var expiresAt: Int

    /// Whether `presented` is this session's CSRF token.
    public func accepts(csrf presented: String?) -> Bool {
        guard let presented else { return false }
        return WebSessions.constantTimeEqual(Array(presented.utf8), Array(csrf.utf8))
    }
}

/// Why a dashboard login did not open a session.
public enum WebLoginRefusal: Error, Sendable, Equatable {
    /// Unknown address or wrong password (the two are not told apart).
    case badCredentials
    /// Too many failures from this client (the throttle every protocol shares).
    case throttled
    case storeFailed
}

/// Dashboard sign-in over the shared authenticator and throttle: a failed password here counts
/// against the client exactly as a failed SMTP AUTH, POP3 or IMAP login does. Sessions live in
/// the store (every node sees them) as the SHA-256 of a 256-bit random token, for `lifetime`.
public struct WebSessions: Sendable {
    let store: any WebSessionRepository
    let directory: any DirectoryRepository
    let authenticator: AccountAuthenticator
    let limits: AbuseLimits
    let clock: @Sendable () -> Int
    /// How long a session lasts after login.
    public var lifetime = 12 * 3600

    public init(
        store: any WebSessionRepository, directory: any DirectoryRepository, authenticator: AccountAuthenticator, limits: AbuseLimits,
        clock: @escaping @Sendable () -> Int
    ) {
        self.store = store
        self.directory = directory
        self.authenticator = authenticator
        self.limits = limits
        self.clock = clock
    }

    /// Checks the password (off the caller's thread: scrypt) and opens a session; the token
    /// goes in the cookie, nowhere else.
    public func logIn(email: String, password: String, client: String) async -> Result<(token: String, session: WebSession), WebLoginRefusal> {
        if limits.loginBlocked(from: client) { return .failure(.throttled) }
        // Bounded input: an address is at most 254 octets, and no password needs more than 1 KiB.
        guard email.utf8.count <= 254, password.utf8.count <= 1024,
            case .password(let found) = await authenticator.answer(.password(username: email, password: password)),
            let account = found,
            // An API key is a credential for the API, not a login to the dashboard.
            account.caseInsensitiveCompare(email) == .orderedSame
        else {
            let penalty = limits.loginFailed(from: client, protocol: "http")
            if penalty.delay > .zero { try? await Task.sleep(for: penalty.delay) }
            return .failure(.badCredentials)
        }
        limits.loginSucceeded(from: client)
        guard let user = try? await directory.user(account) else { return .failure(.storeFailed) }
        let token = Self.randomToken()
        let now = clock()
        let record = WebSessionRecord(tokenHash: Self.hash(token), user: user.address, csrf: Self.randomToken(), createdAt: now, expiresAt: now + lifetime)
        do {
            try await store.createWebSession(record)
        } catch {
            return .failure(.storeFailed)
        }
        // Expired sessions are forgotten as new ones open: no timer needed.
        _ = try? await store.deleteExpiredWebSessions(now: now)
        return .success((token, WebSession(user: user.address, isOperator: user.isOperator, csrf: record.csrf, expiresAt: record.expiresAt)))
    }

    /// The live session `token` names; nil for an unknown, expired or malformed one, or one
    /// whose user was removed.
    public func session(token: String) async -> WebSession? {
        guard token.utf8.count == 43, let record = try? await store.webSession(tokenHash: Self.hash(token), now: clock()),
            let user = try? await directory.user(record.user)
        else { return nil }
        return WebSession(user: user.address, isOperator: user.isOperator, csrf: record.csrf, expiresAt: record.expiresAt)
    }

    public func logOut(token: String) async {
        guard token.utf8.count == 43 else { return }
        try? await store.deleteWebSession(tokenHash: Self.hash(token))
    }

    /// 32 random bytes, base64url without padding: 43 characters.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return TrackingToken.base64URL((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
