/// What one group commit did beyond storing its messages: the recipients delivered to their
/// mailboxes in the same transaction (mail received at the MX), and whether anything is left
/// for the delivery scheduler. Observers see it once the transaction is durable.
public struct CommitReport: Sendable, Equatable {
    /// One recipient's copy, in its mailbox.
    public struct Delivery: Sendable, Equatable {
        public var messageID: String
        public var recipient: String
        public var user: String
        public var folder: String
        public var reply: String

        public init(messageID: String, recipient: String, user: String, folder: String, reply: String) {
            self.messageID = messageID
            self.recipient = recipient
            self.user = user
            self.folder = folder
            self.reply = reply
        }
    }

    public var delivered: [Delivery] = []
    /// Some recipient waits in the queue (a remote one, an alias, a full mailbox…).
    public var leftQueued = false
    /// Recipients stored as dropped (on a suppression list), for the `dropped` event count.
    public var dropped = 0

    public init(delivered: [Delivery] = [], leftQueued: Bool = false) {
        self.delivered = delivered
        self.leftQueued = leftQueued
    }
}
