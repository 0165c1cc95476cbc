/// The recipient an open, click or unsubscribe token names (by its `sg_message_id`).
public struct TrackedRecipient: Hashable, Sendable {
    public var queueID: String
    public var position: Int
    public var address: String
    public var account: String?
    /// When it was first delivered, nil while it has not been.
    public var deliveredAt: Int?
    public var asmGroupID: Int?

    public init(queueID: String, position: Int, address: String, account: String?, deliveredAt: Int?, asmGroupID: Int?) {
        self.queueID = queueID
        self.position = position
        self.address = address
        self.account = account
        self.deliveredAt = deliveredAt
        self.asmGroupID = asmGroupID
    }
}

/// Opens, clicks and the secret their tokens are signed with.
public protocol EngagementRepository: Sendable {
    /// The key tracking tokens are signed with: made once, on first use, and shared by every
    /// node on the same database.
    func trackingKey() async throws(StoreError) -> [UInt8]
    /// The recipient `sgMessageID` names, or nil.
    func trackedRecipient(sgMessageID: String) async throws(StoreError) -> TrackedRecipient?
    /// The recipient of an account's message with this Message-ID field (with or without
    /// angle brackets) and, when given, this address; nil when none or several match.
    func reportedRecipient(messageIDHeader: String, address: String?) async throws(StoreError) -> TrackedRecipient?
    /// An account's own tracking defaults (`/v3/tracking_settings`) as JSON text, nil when it
    /// has none. A synchronous indexed read: the accept path asks.
    func trackingSettings(account: String) throws(StoreError) -> String?
    func setTrackingSettings(account: String, json: String) async throws(StoreError)
    /// Records an engagement event (`open`, `click`, …) of the recipient; `details` is a JSON
    /// object's text (user agent, IP, URL, …). Its webhooks get it like every other event.
    func recordEngagement(_ type: String, for recipient: TrackedRecipient, at: Int, details: String?) async throws(StoreError)
}
