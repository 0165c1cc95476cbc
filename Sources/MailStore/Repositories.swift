import MailCore

/// Hosted domains and their users: who Tern receives mail for.
public protocol DirectoryRepository: Sendable {
    func addDomain(_ name: String) async throws(StoreError)
    func listDomains() async throws(StoreError) -> [HostedDomain]
    func isHostedDomain(_ name: String) async throws(StoreError) -> Bool
    func addUser(_ user: MailUser) async throws(StoreError)
    func listUsers() async throws(StoreError) -> [MailUser]
    func user(_ address: String) async throws(StoreError) -> MailUser?
    func removeUser(_ address: String) async throws(StoreError)
    /// The receiver's question at RCPT, answered synchronously from an indexed read (a few
    /// microseconds, never waiting for the writer in WAL mode), so no task hop per recipient.
    func recipientStatus(domain: String, address: String) throws(StoreError) -> RecipientStatus
    /// What AUTH checks against, read synchronously (callers run it off the event loop).
    func credentials(_ address: String) throws(StoreError) -> StoredCredentials?
    func addAPIKey(_ key: APIKeyRecord) async throws(StoreError)
    func listAPIKeys(user: String) async throws(StoreError) -> [APIKeyRecord]
    /// Marks a key revoked; false when there is no such live key.
    func revokeAPIKey(id: String, at: Int) async throws(StoreError) -> Bool
    /// A key by id, read synchronously for AUTH.
    func apiKey(id: String) throws(StoreError) -> APIKeyRecord?
    /// Lets `user` send as addresses of `domain` (besides its own domain).
    func allowSendingDomain(user: String, domain: String) async throws(StoreError)
    /// The domains `user` may use in MAIL FROM and From: its own, then those allowed. Synchronous.
    func sendingDomains(user: String) throws(StoreError) -> [String]
    /// The plan name of `user`, synchronously; nil for an unknown user.
    func plan(user: String) throws(StoreError) -> String?
    func setPlan(user: String, plan: String) async throws(StoreError)
    /// Counted usage for these periods (missing periods are 0). Synchronous.
    func usage(user: String, periods: [String]) throws(StoreError) -> [String: Int]
}

/// A user's secrets as stored: the scrypt hash and the SCRAM-SHA-256 keys (never a password).
public struct StoredCredentials: Hashable, Sendable {
    public var address: String
    public var passwordHash: String
    /// `SCRAMCredentials.encoded`, or nil for users made before SCRAM was stored.
    public var scram: String?
    /// CRAM-MD5's shared secret: password-equivalent, kept only when `[auth] cram_md5 = true`.
    public var cramSecret: String?

    public init(address: String, passwordHash: String, scram: String?, cramSecret: String? = nil) {
        self.address = address
        self.passwordHash = passwordHash
        self.scram = scram
        self.cramSecret = cramSecret
    }
}

/// What the directory knows about a recipient address.
public enum RecipientStatus: Hashable, Sendable {
    case notHosted
    case unknownUser
    case exists
}

/// The durable queue. `enqueue` returns only once the message is on stable storage.
public protocol QueueRepository: Sendable {
    /// Stores `message`; `completion` runs once it is on stable storage, or failed.
    func enqueue(_ message: IncomingMessage, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void)
    func listQueue() async throws(StoreError) -> [QueuedMessage]
    func queuedMessage(id: String) async throws(StoreError) -> QueuedMessage?
    func content(id: String) async throws(StoreError) -> [UInt8]?
    /// Removes a message and its recipients; false when there was none.
    func removeQueued(id: String) async throws(StoreError) -> Bool
}

extension QueueRepository {
    /// `enqueue` for async callers.
    public func enqueue(_ message: IncomingMessage) async throws(StoreError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            enqueue(message) { continuation.resume(returning: $0) }
        }
        try result.get()
    }
}
