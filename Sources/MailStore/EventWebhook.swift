/// One event webhook of an account (SendGrid's multiple event webhooks): where the account's
/// events go, which of them, signed or not, and how far delivery has come.
public struct EventWebhook: Hashable, Sendable {
    public var id: String
    public var account: String
    public var url: String
    public var enabled: Bool
    public var friendlyName: String?
    /// SendGrid event names sent (`processed`, `delivered`, `deferred`, `bounce`, `dropped`,
    /// `open`, `click`, `unsubscribe`, `group_unsubscribe`, `group_resubscribe`, `spamreport`).
    public var events: Set<String>
    /// The P-256 private key batches are signed with (raw representation, base64), when signed.
    public var signingKey: String?
    public var createdAt: Int
    public var updatedAt: Int
    /// The id of the last event row handed to this webhook: the events table is the outbox,
    /// and this cursor moves only after the receiver answered 2xx (at least once).
    public var cursor: Int
    /// Failed deliveries in a row, and when to try again.
    public var failures: Int
    public var nextAttemptAt: Int

    public static let eventNames: [String] = [
        "processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe",
        "spamreport",
    ]

    public init(
        id: String, account: String, url: String, enabled: Bool, friendlyName: String? = nil, events: Set<String>, signingKey: String? = nil,
        createdAt: Int, updatedAt: Int, cursor: Int, failures: Int = 0, nextAttemptAt: Int = 0
    ) {
        self.id = id
        self.account = account
        self.url = url
        self.enabled = enabled
        self.friendlyName = friendlyName
        self.events = events
        self.signingKey = signingKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.cursor = cursor
        self.failures = failures
        self.nextAttemptAt = nextAttemptAt
    }
}

/// One event row of an account's message, with what its message adds.
public struct AccountEvent: Hashable, Sendable {
    public var event: QueueEvent
    public var recipient: RecipientActivity

    public init(event: QueueEvent, recipient: RecipientActivity) {
        self.event = event
        self.recipient = recipient
    }
}

/// Event webhooks and their outbox.
public protocol WebhookRepository: Sendable {
    func addWebhook(_ webhook: EventWebhook) async throws(StoreError)
    func webhooks(account: String) async throws(StoreError) -> [EventWebhook]
    func webhook(id: String) async throws(StoreError) -> EventWebhook?
    /// Saves the settings of a webhook (not its cursor or retry state); false when it is gone.
    func updateWebhookSettings(_ webhook: EventWebhook) async throws(StoreError) -> Bool
    func removeWebhook(id: String) async throws(StoreError) -> Bool
    /// Enabled webhooks due for a delivery at `now`.
    func dueWebhooks(now: Int) async throws(StoreError) -> [EventWebhook]
    /// Events of `account`'s messages with ids after `cursor`, oldest first.
    func events(account: String, after cursor: Int, limit: Int) async throws(StoreError) -> [AccountEvent]
    /// Records a delivery: the new cursor and retry state.
    func recordWebhookDelivery(id: String, cursor: Int, failures: Int, nextAttemptAt: Int) async throws(StoreError)
    /// The newest event id (a new webhook starts after it).
    func lastEventID() async throws(StoreError) -> Int
}
