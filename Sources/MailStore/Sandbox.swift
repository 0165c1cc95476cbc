/// A message kept in an account's sandbox inbox: accepted, signed and stored like any other,
/// never delivered.
public struct SandboxMessage: Hashable, Sendable {
    public var id: String
    public var from: String
    public var recipients: [String]
    public var subject: String?
    public var createdAt: Int
    public var size: Int

    public init(id: String, from: String, recipients: [String], subject: String?, createdAt: Int, size: Int) {
        self.id = id
        self.from = from
        self.recipients = recipients
        self.subject = subject
        self.createdAt = createdAt
        self.size = size
    }
}

/// Sandbox accounts (issue 13 item 7): the free test account a hosted service advertises.
public protocol SandboxRepository: Sendable {
    /// Whether every message of `user` goes to its sandbox inbox. Synchronous (accept path).
    func isSandboxed(user: String) throws(StoreError) -> Bool
    func setSandboxed(user: String, _ sandboxed: Bool) async throws(StoreError)
    /// The newest messages of the account's sandbox inbox.
    func sandboxMessages(account: String, limit: Int) async throws(StoreError) -> [SandboxMessage]
    /// One sandbox message's stored source; nil when the account has no such message.
    func sandboxContent(account: String, id: String) async throws(StoreError) -> [UInt8]?
}

/// How many messages a sandbox inbox keeps; older ones are removed as new ones arrive.
public let sandboxInboxSize = 1000
