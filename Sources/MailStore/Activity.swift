/// What a sender attached to a message for its events: SendGrid's categories, custom args and
/// suppression group (from the send API, or an SMTP message's `X-SMTPAPI` field).
public struct MessageTags: Hashable, Sendable {
    public var categories: [String]
    public var customArgs: [String: String]
    public var asmGroupID: Int?

    public init(categories: [String] = [], customArgs: [String: String] = [:], asmGroupID: Int? = nil) {
        self.categories = categories
        self.customArgs = customArgs
        self.asmGroupID = asmGroupID
    }

    public var isEmpty: Bool { categories.isEmpty && customArgs.isEmpty && asmGroupID == nil }
}

/// One recipient of one message as the activity API shows it: SendGrid's "message" is a
/// recipient, named by its `sg_message_id`.
public struct RecipientActivity: Hashable, Sendable {
    /// The queue id of the message.
    public var queueID: String
    /// `<X-Message-Id or queue id>.<ordinal>`.
    public var sgMessageID: String
    public var position: Int
    public var from: String
    public var to: String
    public var subject: String?
    /// The Message-ID header (SendGrid's `smtp-id`).
    public var messageIDHeader: String?
    public var state: RecipientState
    public var createdAt: Int
    public var lastEventAt: Int
    public var tags: MessageTags
    public var account: String?
    public var clientAddress: String?
    /// Kept in the sandbox inbox, never sent.
    public var sandbox: Bool
    /// How many `open` and `click` events the recipient has.
    public var opens = 0
    public var clicks = 0

    public init(
        queueID: String, sgMessageID: String, position: Int, from: String, to: String, subject: String?, messageIDHeader: String?,
        state: RecipientState, createdAt: Int, lastEventAt: Int, tags: MessageTags, account: String?, clientAddress: String?, sandbox: Bool = false
    ) {
        self.sandbox = sandbox
        self.queueID = queueID
        self.sgMessageID = sgMessageID
        self.position = position
        self.from = from
        self.to = to
        self.subject = subject
        self.messageIDHeader = messageIDHeader
        self.state = state
        self.createdAt = createdAt
        self.lastEventAt = lastEventAt
        self.tags = tags
        self.account = account
        self.clientAddress = clientAddress
    }
}

/// Which recipients a listing wants; every set field must match (exact, case-insensitive for
/// addresses).
public struct ActivityFilter: Hashable, Sendable {
    public var to: String?
    public var from: String?
    public var subject: String?
    /// Any of these states; nil for all.
    public var states: Set<RecipientState>?
    public var sgMessageID: String?
    /// One of the message's categories (exact).
    public var category: String?
    /// Accepted at or after, and before (Unix seconds).
    public var acceptedFrom: Int?
    public var acceptedBefore: Int?

    public init(
        to: String? = nil, from: String? = nil, subject: String? = nil, states: Set<RecipientState>? = nil, sgMessageID: String? = nil,
        category: String? = nil, acceptedFrom: Int? = nil, acceptedBefore: Int? = nil
    ) {
        self.to = to
        self.from = from
        self.subject = subject
        self.states = states
        self.sgMessageID = sgMessageID
        self.category = category
        self.acceptedFrom = acceptedFrom
        self.acceptedBefore = acceptedBefore
    }
}

/// Event counts of one UTC day: Tern's event types (`queued`, `delivered`, `deferred`,
/// `bounced`, …) and, for bounces, the reply (bounce and blocked are told apart by it).
public struct DailyEvents: Hashable, Sendable {
    /// Unix seconds of the day's 00:00 UTC.
    public var day: Int
    public var counts: [String: Int]
    public var bounceReplies: [String]
    /// The reasons of the day's drops (SendGrid's: "Bounced Address", …).
    public var dropReasons: [String]
    /// Recipients with at least one `open` / `click` that no machine made.
    public var uniqueCounts: [String: Int] = [:]

    public init(day: Int, counts: [String: Int] = [:], bounceReplies: [String] = [], dropReasons: [String] = []) {
        self.day = day
        self.counts = counts
        self.bounceReplies = bounceReplies
        self.dropReasons = dropReasons
    }
}

/// The read side of events for the HTTP API: message activity and stats, per account.
public protocol ActivityRepository: Sendable {
    /// The newest recipients of `account`'s messages that match, newest first.
    func activity(account: String, filter: ActivityFilter, limit: Int) async throws(StoreError) -> [RecipientActivity]
    /// One recipient by `sg_message_id`, with its events in order; nil when `account` has none.
    func activity(account: String, sgMessageID: String) async throws(StoreError) -> (RecipientActivity, [QueueEvent])?
    /// Event counts per UTC day of `account`'s messages (of those in `category`, when given),
    /// for days starting in `from..<to`.
    func dailyEvents(account: String, from: Int, to: Int, category: String?) async throws(StoreError) -> [DailyEvents]
}
