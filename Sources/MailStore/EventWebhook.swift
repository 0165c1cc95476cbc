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

/// One post to a webhook's URL, as its log shows it: when, how many events, what the receiver
/// answered (or why there was no answer), and which retry it was.
public struct WebhookAttempt: Hashable, Sendable {
    public enum Outcome: String, Hashable, Sendable {
        /// The receiver answered 2xx: the cursor moved past the batch.
        case delivered
        /// No 2xx: the batch is sent again after a delay.
        case failed
        /// No 2xx, and the oldest event was past the retention: the batch was dropped.
        case gaveUp = "gave_up"
        /// A sample event from the test button; the cursor is not involved.
        case test
    }

    public var webhookID: String
    public var at: Int
    public var outcome: Outcome
    public var events: Int
    /// The HTTP status the receiver answered, or nil when it did not answer.
    public var status: Int?
    /// Why there was no answer (refused, timed out, a private address), bounded.
    public var error: String?
    /// Failed posts of this batch before this one (0 for a first try).
    public var retry: Int
    public var milliseconds: Int

    /// Entries a webhook's log keeps.
    public static let kept = 100
    /// The most of an error text kept.
    public static let maximumErrorBytes = 300

    public init(webhookID: String, at: Int, outcome: Outcome, events: Int, status: Int?, error: String?, retry: Int, milliseconds: Int) {
        self.webhookID = webhookID
        self.at = at
        self.outcome = outcome
        self.events = events
        self.status = status
        self.error = error.map { String(decoding: $0.utf8.prefix(Self.maximumErrorBytes), as: UTF8.self) }
        self.retry = retry
        self.milliseconds = milliseconds
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
    /// Enabled webhooks due for a delivery at `now`. A store shared by several nodes claims them
    /// for a while (one node posts a webhook's batch at a time); the caller ends the claim with
    /// `recordWebhookDelivery`, or `releaseWebhook` when it posted nothing.
    func dueWebhooks(now: Int) async throws(StoreError) -> [EventWebhook]
    /// Ends a claim without a delivery: the webhook is due again at `nextAttemptAt` (its value
    /// before the claim).
    func releaseWebhook(id: String, nextAttemptAt: Int) async throws(StoreError)
    /// Events of `account`'s messages with ids after `cursor`, oldest first.
    func events(account: String, after cursor: Int, limit: Int) async throws(StoreError) -> [AccountEvent]
    /// Records a delivery: the new cursor and retry state, and the post made (if one was) in the
    /// webhook's log, which keeps its newest `WebhookAttempt.kept` entries.
    func recordWebhookDelivery(id: String, cursor: Int, failures: Int, nextAttemptAt: Int, attempt: WebhookAttempt?) async throws(StoreError)
    /// Adds a post outside the dispatcher (the test button) to the webhook's log.
    func recordWebhookAttempt(_ attempt: WebhookAttempt) async throws(StoreError)
    /// The webhook's log, newest first.
    func webhookAttempts(webhookID: String, limit: Int) async throws(StoreError) -> [WebhookAttempt]
    /// The newest event id (a new webhook starts after it).
    func lastEventID() async throws(StoreError) -> Int
}
