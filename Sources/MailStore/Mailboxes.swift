/// A user's folder (IMAP calls it a mailbox), with the counters IMAP needs (RFC 9051 §2.3.1.1).
public struct Mailbox: Hashable, Sendable {
    public var id: Int
    public var user: String
    public var name: String
    public var uidValidity: Int
    public var uidNext: Int
    public var highestModSeq: Int
    public var messages: Int
    public var size: Int

    public init(id: Int, user: String, name: String, uidValidity: Int, uidNext: Int, highestModSeq: Int, messages: Int = 0, size: Int = 0) {
        self.id = id
        self.user = user
        self.name = name
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.highestModSeq = highestModSeq
        self.messages = messages
        self.size = size
    }

    /// The folders every user starts with (RFC 6154 special uses, and INBOX).
    public static let defaultNames = ["INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive"]
}

/// One message in a folder. Its content is the shared queue content with a per-recipient
/// `prefix` (Return-Path, Delivered-To) in front: stored once for any number of recipients.
public struct MailboxMessage: Hashable, Sendable {
    public var uid: Int
    /// The queue message whose content this is.
    public var messageID: String
    public var size: Int
    /// Unix seconds: when it was delivered (IMAP INTERNALDATE).
    public var internalDate: Int
    /// System flags (`\Seen`…) and keywords.
    public var flags: [String]
    public var modSeq: Int

    public init(uid: Int, messageID: String, size: Int, internalDate: Int, flags: [String], modSeq: Int) {
        self.uid = uid
        self.messageID = messageID
        self.size = size
        self.internalDate = internalDate
        self.flags = flags
        self.modSeq = modSeq
    }
}

/// Where a hosted recipient's mail goes, as the directory resolves it.
public enum LocalRecipient: Hashable, Sendable {
    /// Into this user's mailbox; `overQuota` when it has no room left.
    case mailbox(user: String, overQuota: Bool)
    /// An alias or catch-all: to these addresses instead (hosted or not).
    case expand([String])
    case unknown
}

/// Mailboxes: folders, messages, flags. Designed for IMAP; POP3 sees INBOX.
public protocol MailboxRepository: Sendable {
    func mailboxes(user: String) async throws(StoreError) -> [Mailbox]
    func mailbox(user: String, name: String) async throws(StoreError) -> Mailbox?
    /// Messages of a folder in UID order.
    func messages(mailboxID: Int) async throws(StoreError) -> [MailboxMessage]
    /// The full content of one message as the user sees it (prefix + stored content).
    func content(mailboxID: Int, uid: Int) async throws(StoreError) -> [UInt8]?
    /// Removes messages from a folder (POP3 UPDATE, IMAP EXPUNGE); returns how many went.
    func expunge(mailboxID: Int, uids: [Int]) async throws(StoreError) -> Int
    /// Where mail for `address` goes (aliases, sub-addressing, catch-all), read synchronously.
    func resolveLocal(_ address: String) throws(StoreError) -> LocalRecipient
    /// The user added first: the postmaster when none is configured.
    func firstUser() throws(StoreError) -> String?
    /// Bytes in all of `user`'s folders, and the quota (nil: none).
    func usage(user: String) throws(StoreError) -> (bytes: Int, quota: Int?)
    func setQuota(user: String, bytes: Int?) async throws(StoreError)
    func addAlias(_ address: String, targets: [String]) async throws(StoreError)
    func removeAlias(_ address: String) async throws(StoreError) -> Bool
    func aliases() async throws(StoreError) -> [(address: String, targets: [String])]
    func setCatchAll(domain: String, target: String?) async throws(StoreError)
}

/// A local delivery carried by a `DeliveryOutcome`: written in the same transaction that marks
/// the recipient delivered, so after a crash the message is in the mailbox exactly once or
/// still due in the queue.
public struct MailboxDelivery: Hashable, Sendable {
    public var user: String
    public var folder: String
    /// Trace fields for this recipient (Return-Path, Delivered-To), put in front of the content.
    public var prefix: [UInt8]

    public init(user: String, folder: String, prefix: [UInt8]) {
        self.user = user
        self.folder = folder
        self.prefix = prefix
    }
}
