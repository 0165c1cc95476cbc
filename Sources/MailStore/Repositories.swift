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
    /// Renames a live key and/or replaces its scopes; false when there is no such live key.
    func updateAPIKey(id: String, name: String?, scopes: Set<APIScope>?) async throws(StoreError) -> Bool
    /// A key by id, read synchronously for AUTH.
    func apiKey(id: String) throws(StoreError) -> APIKeyRecord?
    /// Notes that a key authenticated at `at` (later times only).
    func recordAPIKeyUse(id: String, at: Int) async throws(StoreError)
    /// Lets `user` send as addresses of `domain` (besides its own domain).
    func allowSendingDomain(user: String, domain: String) async throws(StoreError)
    /// The domains `user` may use in MAIL FROM and From: its own, then those allowed. Synchronous.
    func sendingDomains(user: String) throws(StoreError) -> [String]
    /// The plan name of `user`, synchronously; nil for an unknown user.
    func plan(user: String) throws(StoreError) -> String?
    func setPlan(user: String, plan: String) async throws(StoreError)
    /// Makes `user` an operator of the server, or no longer one.
    func setOperator(user: String, _ isOperator: Bool) async throws(StoreError)
    /// Replaces every stored secret of `user` (a new password).
    func setCredentials(user: String, passwordHash: String, scram: String?, cramSecret: String?) async throws(StoreError)
    /// Counted usage for these periods (missing periods are 0). Synchronous.
    func usage(user: String, periods: [String]) throws(StoreError) -> [String: Int]
}

/// DKIM private keys of hosted domains (RFC 6376): which sign, and which stay published.
public protocol SigningKeyRepository: Sendable {
    func addSigningKey(_ key: StoredSigningKey) async throws(StoreError)
    /// Every key of `domain`, oldest first.
    func signingKeys(domain: String) async throws(StoreError) -> [StoredSigningKey]
    /// The keys that sign `domain`'s mail now, read synchronously on the accept path.
    func activeSigningKeys(domain: String) throws(StoreError) -> [StoredSigningKey]
    /// Makes every active key of `domain` except `keeping` retired (published, not signing).
    func retireSigningKeys(domain: String, keeping selectors: [String]) async throws(StoreError)
    /// Deletes a key; false when there was none.
    func removeSigningKey(domain: String, selector: String) async throws(StoreError) -> Bool
}

/// One DKIM key as stored. The private key is kept in the database, like the rest of the
/// domain's configuration; protect the data directory accordingly.
public struct StoredSigningKey: Hashable, Sendable {
    public enum State: String, Sendable {
        /// Signs outgoing mail.
        case active
        /// Replaced by a newer key; still published so mail in flight verifies.
        case retired
    }

    public var domain: String
    public var selector: String
    /// `rsa-sha256` or `ed25519-sha256`.
    public var algorithm: String
    /// PEM for RSA, `ed25519:` + base64 seed for Ed25519.
    public var privateKey: String
    public var createdAt: Int
    public var state: State

    public init(domain: String, selector: String, algorithm: String, privateKey: String, createdAt: Int, state: State = .active) {
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.createdAt = createdAt
        self.state = state
    }
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
    /// A hosted mailbox with a quota and room left: the end of DATA checks the message's size.
    case existsWithQuota
    /// A hosted mailbox that is full (RFC 3463 X.2.2).
    case overQuota
}

/// One recipient still waiting for delivery, as an operator's queue view lists it.
public struct PendingRecipient: Hashable, Sendable {
    public var messageID: String
    public var from: String
    public var recipient: String
    public var state: RecipientState
    public var attempts: Int
    /// When it is tried next (for `delivering`, when its lease ends).
    public var nextAttemptAt: Int?
    public var lastReply: String?
    public var createdAt: Int
    /// The sending account, nil for mail that came in at the MX or from a trusted network.
    public var account: String?

    public init(
        messageID: String, from: String, recipient: String, state: RecipientState, attempts: Int, nextAttemptAt: Int?, lastReply: String?,
        createdAt: Int, account: String?
    ) {
        self.messageID = messageID
        self.from = from
        self.recipient = recipient
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastReply = lastReply
        self.createdAt = createdAt
        self.account = account
    }
}

/// What is waiting in the queue, bounded: the operator's view (the dashboard's queue page).
public protocol PendingQueueRepository: Sendable {
    /// Queued, deferred and delivering recipients of every account, the soonest due first.
    func pendingRecipients(limit: Int) async throws(StoreError) -> [PendingRecipient]
}

/// The durable queue. `enqueue` returns only once the message is on stable storage.
public protocol QueueRepository: Sendable {
    /// Stores `message`; `completion` runs once it is on stable storage, or failed.
    func enqueue(_ message: IncomingMessage, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void)
    /// Stores every message of `group` in one transaction, or none: the messages of one API
    /// request are accepted together. Their charges are checked together, so a request that
    /// would pass a plan limit stores nothing.
    func enqueue(group: [IncomingMessage], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void)
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

    /// `enqueue(group:)` for async callers.
    public func enqueue(group: [IncomingMessage]) async throws(StoreError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            enqueue(group: group) { continuation.resume(returning: $0) }
        }
        try result.get()
    }
}

/// One recipient the scheduler has leased for an attempt.
public struct LeasedRecipient: Hashable, Sendable {
    public var position: Int
    public var address: String
    public var notify: DSNNotify?
    public var originalRecipient: OriginalRecipient?
    /// Attempts made before this one.
    public var attempts: Int
    /// A delay notice (NOTIFY=DELAY) was already sent for this recipient.
    public var delayNotified: Bool

    public init(
        position: Int, address: String, notify: DSNNotify? = nil, originalRecipient: OriginalRecipient? = nil, attempts: Int = 0,
        delayNotified: Bool = false
    ) {
        self.position = position
        self.address = address
        self.notify = notify
        self.originalRecipient = originalRecipient
        self.attempts = attempts
        self.delayNotified = delayNotified
    }
}

/// A message with the recipients leased from it (its `recipients` list is left empty).
public struct LeasedMessage: Sendable {
    public var message: QueuedMessage
    public var recipients: [LeasedRecipient]

    public init(message: QueuedMessage, recipients: [LeasedRecipient]) {
        self.message = message
        self.recipients = recipients
    }
}

/// What one attempt did to one recipient; the store applies it and writes its event row.
public struct DeliveryOutcome: Hashable, Sendable {
    public var messageID: String
    public var position: Int
    public var recipient: String
    /// `delivered`, `deferred`, `bounced`, or `queued` to hand a lease back without an attempt.
    public var state: RecipientState
    public var reply: String?
    /// When to try again (deferred/queued); nil for final states.
    public var nextAttemptAt: Int?
    /// False when no attempt was made (the lease is only handed back).
    public var countsAsAttempt: Bool
    /// Set when this outcome also sent a delay notice.
    public var delayNotified: Bool
    public var mxHost: String?
    /// The TLS version used, nil for plaintext.
    public var tls: String?
    /// A local delivery to write with this outcome.
    public var mailbox: MailboxDelivery?
    /// Addresses an alias or catch-all expanded to: new recipients of the same message, queued
    /// in the same transaction (RFC 3464's "expanded").
    public var expansion: [String]

    public init(
        messageID: String, position: Int, recipient: String, state: RecipientState, reply: String?, nextAttemptAt: Int?,
        countsAsAttempt: Bool = true, delayNotified: Bool = false, mxHost: String? = nil, tls: String? = nil,
        mailbox: MailboxDelivery? = nil, expansion: [String] = []
    ) {
        self.mailbox = mailbox
        self.expansion = expansion
        self.messageID = messageID
        self.position = position
        self.recipient = recipient
        self.state = state
        self.reply = reply
        self.nextAttemptAt = nextAttemptAt
        self.countsAsAttempt = countsAsAttempt
        self.delayNotified = delayNotified
        self.mxHost = mxHost
        self.tls = tls
    }
}

/// A step in a message's life (`queued`, `delivered`, `deferred`, `bounced`), kept for
/// `tern queue show`, the events API and webhooks.
public struct QueueEvent: Hashable, Sendable {
    public var id: Int
    public var at: Int
    public var messageID: String
    public var recipient: String
    public var type: String
    public var mxHost: String?
    public var tls: String?
    public var reply: String?
    /// The recipient's position in its message (nil for rows written before it was kept).
    public var position: Int?
    /// Which attempt this was (deferred, delivered, bounced).
    public var attempt: Int?
    /// What an open or click adds (user agent, IP, URL, …), as a JSON object's text.
    public var details: String?

    public init(
        id: Int, at: Int, messageID: String, recipient: String, type: String, mxHost: String?, tls: String?, reply: String?, position: Int? = nil,
        attempt: Int? = nil, details: String? = nil
    ) {
        self.details = details
        self.position = position
        self.attempt = attempt
        self.id = id
        self.at = at
        self.messageID = messageID
        self.recipient = recipient
        self.type = type
        self.mxHost = mxHost
        self.tls = tls
        self.reply = reply
    }
}

/// The queue as the delivery scheduler sees it: leases with an expiry (so several nodes, or a
/// restarted one, never keep a recipient forever), outcomes written with their events and any
/// bounce in one transaction.
public protocol DeliveryQueue: QueueRepository {
    /// Leases up to `limit` recipients whose time has come (queued or deferred and due, or
    /// delivering with an expired lease) until `leaseUntil`, grouped by message.
    func leaseDue(now: Int, leaseUntil: Int, limit: Int) async throws(StoreError) -> [LeasedMessage]
    /// The stored content of several messages in one read (missing ids are left out).
    func contents(ids: [String]) async throws(StoreError) -> [String: [UInt8]]
    /// The earliest time any recipient is due (or its lease expires), nil when nothing waits.
    func nextDueTime() async throws(StoreError) -> Int?
    /// Applies outcomes and stores `bounces` (DSNs) in one transaction.
    func record(_ outcomes: [DeliveryOutcome], bounces: [IncomingMessage], at: Int) async throws(StoreError)
    /// Makes queued and deferred recipients of `id` (or of every message) due at `at`; returns
    /// how many recipients changed.
    func retryNow(id: String?, at: Int) async throws(StoreError) -> Int
    func events(messageID: String) async throws(StoreError) -> [QueueEvent]
    /// Ends every lease at once. Only for a single node at start-up (the embedded store), where
    /// no other process can be delivering: what the last run was doing is retried now.
    func releaseLeases(at: Int) async throws(StoreError) -> Int
    /// Moves the end of this node's leases (recipients it is still delivering) to `until`: a
    /// long backlog or a slow destination must not let a lease run out under a recipient this
    /// node still holds, or another node would deliver it too.
    func renewLeases(until: Int) async throws(StoreError) -> Int
}
