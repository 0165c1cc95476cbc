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
    /// The contents of several messages in one read (FETCH and SEARCH over many messages).
    func contents(mailboxID: Int, uids: [Int]) async throws(StoreError) -> [Int: [UInt8]]
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

    // IMAP (RFC 9051): folders, subscriptions, flags, copies, and what changed since a MODSEQ.

    /// Makes a folder; `alreadyExists` when it is there.
    func createMailbox(user: String, name: String) async throws(StoreError) -> Mailbox
    /// Removes a folder and its messages (their bytes leave the user's usage).
    func deleteMailbox(user: String, name: String) async throws(StoreError)
    /// Renames a folder and every folder below it (`a` and `a/b` to `c` and `c/b`); renaming
    /// INBOX moves its messages into the new folder and leaves INBOX empty (RFC 9051 §6.3.6).
    func renameMailbox(user: String, from: String, to: String) async throws(StoreError)
    func subscriptions(user: String) async throws(StoreError) -> [String]
    func setSubscribed(user: String, name: String, _ subscribed: Bool) async throws(StoreError)
    /// Stores a message in a folder (APPEND); `limitReached(.quota)` when it would pass the
    /// user's quota. Answers the new message.
    func append(mailboxID: Int, content: [UInt8], flags: [String], internalDate: Int) async throws(StoreError) -> MailboxMessage
    /// Changes flags of `uids`; with `unchangedSince`, a message whose MODSEQ is higher is left
    /// alone and listed in `modified` (RFC 7162 §3.1.3). Every changed message gets a new MODSEQ.
    func storeFlags(mailboxID: Int, uids: [Int], change: FlagChange, unchangedSince: Int?) async throws(StoreError) -> FlagStoreResult
    /// Copies (or moves) messages to another folder, in UID order; answers (source UID, new UID)
    /// pairs. The content is shared, not duplicated; quota counts each copy.
    func copy(from: Int, uids: [Int], to: Int, move: Bool) async throws(StoreError) -> [(source: Int, copy: Int)]
    /// What changed in a folder after `modSeq`: messages added or re-flagged, and UIDs
    /// expunged (RFC 7162 §3.2.5.2 needs the latter to answer VANISHED).
    func changes(mailboxID: Int, since modSeq: Int) async throws(StoreError) -> MailboxChanges
    /// Claims the messages no session has been told about yet (rev1 `\Recent`): answers the
    /// highest UID claimed before, and moves the mark to the folder's newest message.
    func claimRecent(mailboxID: Int) async throws(StoreError) -> Int
    /// Wakes sessions waiting on a user's folders (IDLE) after any change.
    var mailboxSignals: MailboxSignals { get }
}

/// How STORE changes flags.
public struct FlagChange: Hashable, Sendable {
    public enum Operation: Hashable, Sendable {
        case replace, add, remove
    }

    public var operation: Operation
    public var flags: [String]

    public init(_ operation: Operation, _ flags: [String]) {
        self.operation = operation
        self.flags = flags
    }

    /// The flags a message ends with; system flags keep their canonical case, keywords are
    /// compared case-insensitively (RFC 9051 §2.3.2).
    public func applied(to current: [String]) -> [String] {
        func key(_ flag: String) -> String { flag.lowercased() }
        switch operation {
        case .replace:
            var seen: Set<String> = []
            return flags.filter { seen.insert(key($0)).inserted }
        case .add:
            var out = current
            var seen = Set(current.map(key))
            for flag in flags where seen.insert(key(flag)).inserted { out.append(flag) }
            return out
        case .remove:
            let gone = Set(flags.map(key))
            return current.filter { !gone.contains(key($0)) }
        }
    }
}

extension FlagChange {
    /// What STORE does to one message: nil when UNCHANGEDSINCE refuses it (its MODSEQ is
    /// higher, RFC 7162 §3.1.3); else the message as it ends, and whether it is written (with
    /// UNCHANGEDSINCE every message it lets through gets the new MODSEQ, changed or not).
    public func outcome(for message: MailboxMessage, unchangedSince: Int?, modSeq: Int) -> (message: MailboxMessage, write: Bool)? {
        if let unchangedSince, message.modSeq > unchangedSince { return nil }
        let flags = applied(to: message.flags)
        guard flags != message.flags || unchangedSince != nil else { return (message, false) }
        var message = message
        message.flags = flags
        message.modSeq = modSeq
        return (message, true)
    }
}

public struct FlagStoreResult: Sendable {
    /// Messages whose flags were written (even to the same value), with their new MODSEQ.
    public var updated: [MailboxMessage]
    /// UIDs refused because their MODSEQ passed UNCHANGEDSINCE.
    public var modified: [Int]

    public init(updated: [MailboxMessage], modified: [Int]) {
        self.updated = updated
        self.modified = modified
    }
}

public struct MailboxChanges: Sendable {
    public var messages: [MailboxMessage]
    public var expunged: [Int]
    public var highestModSeq: Int

    public init(messages: [MailboxMessage], expunged: [Int], highestModSeq: Int) {
        self.messages = messages
        self.expunged = expunged
        self.highestModSeq = highestModSeq
    }
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

    /// A hosted user's copy (RFC 5321 §4.4 trace): Return-Path and Delivered-To in front, in
    /// INBOX, or in Junk when DMARC said quarantine. `reversePath` is the envelope sender
    /// without brackets ("" for the null path).
    public init(user: String, recipient: String, reversePath: String, quarantined: Bool) {
        self.init(
            user: user, folder: quarantined ? "Junk" : "INBOX",
            prefix: Array("Return-Path: <\(reversePath)>\r\nDelivered-To: \(recipient)\r\n".utf8))
    }

    /// The recipient's outcome line.
    public var reply: String { "250 2.0.0 Delivered to \(user) in \(folder)" }
}
