/// One client command (RFC 9051 §6), as the parser reads it. Mailbox names stay the bytes the
/// client sent: whether they are modified UTF-7 or UTF-8 depends on the session (UTF8=ACCEPT).
public struct IMAPCommand: Hashable, Sendable {
    public var tag: String
    public var kind: Kind

    public init(tag: String, kind: Kind) {
        self.tag = tag
        self.kind = kind
    }

    /// STATUS data items (RFC 9051 §6.3.11, STATUS=SIZE of RFC 8438, CONDSTORE's HIGHESTMODSEQ).
    public enum StatusItem: String, Hashable, Sendable, CaseIterable {
        case messages = "MESSAGES"
        case uidNext = "UIDNEXT"
        case uidValidity = "UIDVALIDITY"
        case unseen = "UNSEEN"
        case deleted = "DELETED"
        case size = "SIZE"
        case recent = "RECENT"
        case highestModSeq = "HIGHESTMODSEQ"
    }

    public enum Kind: Hashable, Sendable {
        case capability
        case noop
        case logout
        case startTLS
        /// SASL-IR (RFC 4959): the initial response, `=` for an empty one, nil for none.
        case authenticate(mechanism: String, initialResponse: [UInt8]?)
        case login(username: [UInt8], password: [UInt8])
        case enable([String])
        case select(mailbox: [UInt8], SelectParameters)
        case examine(mailbox: [UInt8], SelectParameters)
        case create(mailbox: [UInt8])
        case delete(mailbox: [UInt8])
        case rename(from: [UInt8], to: [UInt8])
        case subscribe(mailbox: [UInt8])
        case unsubscribe(mailbox: [UInt8])
        /// LIST with RFC 5258's selection and return options (RFC 9051 §6.3.9).
        case list(ListCommand)
        case lsub(reference: [UInt8], pattern: [UInt8])
        case namespace
        case status(mailbox: [UInt8], items: [StatusItem])
        case idle
        case check
        case close
        case unselect
        case expunge
        case uidExpunge(SequenceSet)
        case fetch(SequenceSet, attributes: [FetchAttribute], changedSince: UInt64?, vanished: Bool, uid: Bool)
        case store(SequenceSet, StoreFlags, unchangedSince: UInt64?, uid: Bool)
        case search(SearchCommand, uid: Bool)
        /// APPEND (RFC 9051 §6.3.12): flags, INTERNALDATE (Unix seconds), the message.
        case append(mailbox: [UInt8], flags: [String], date: Int?, message: [UInt8])
        case getQuota(root: [UInt8])
        case getQuotaRoot(mailbox: [UInt8])
        case setQuota(root: [UInt8])
        case copy(SequenceSet, mailbox: [UInt8], uid: Bool)
        case move(SequenceSet, mailbox: [UInt8], uid: Bool)
        /// RFC 2971: field/value pairs, or nil for `ID NIL`.
        case id([IDField]?)
    }

    /// SELECT/EXAMINE parameters: CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (§3.2.5).
    public struct SelectParameters: Hashable, Sendable {
        public var condstore: Bool
        public var qresync: QResync?

        public init(condstore: Bool = false, qresync: QResync? = nil) {
            self.condstore = condstore
            self.qresync = qresync
        }
    }

    /// `QRESYNC (uidvalidity modseq [known-uids] [(seq-match-data)])`.
    public struct QResync: Hashable, Sendable {
        public var uidValidity: UInt32
        public var modSeq: UInt64
        public var knownUIDs: SequenceSet?
        public var sequenceMatch: (sequences: SequenceSet, uids: SequenceSet)?

        public init(uidValidity: UInt32, modSeq: UInt64, knownUIDs: SequenceSet? = nil, sequenceMatch: (SequenceSet, SequenceSet)? = nil) {
            self.uidValidity = uidValidity
            self.modSeq = modSeq
            self.knownUIDs = knownUIDs
            self.sequenceMatch = sequenceMatch.map { (sequences: $0.0, uids: $0.1) }
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.uidValidity == b.uidValidity && a.modSeq == b.modSeq && a.knownUIDs == b.knownUIDs
                && a.sequenceMatch?.sequences == b.sequenceMatch?.sequences && a.sequenceMatch?.uids == b.sequenceMatch?.uids
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(uidValidity)
            hasher.combine(modSeq)
        }
    }

    /// LIST (RFC 5258): selection options, one or more patterns, return options.
    public struct ListCommand: Hashable, Sendable {
        public var reference: [UInt8]
        public var patterns: [[UInt8]]
        /// Upper-cased: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE.
        public var selection: [String]
        /// Upper-cased: SUBSCRIBED, CHILDREN, SPECIAL-USE; STATUS items separately.
        public var returns: [String]
        public var status: [StatusItem]?

        public init(reference: [UInt8], patterns: [[UInt8]], selection: [String] = [], returns: [String] = [], status: [StatusItem]? = nil) {
            self.reference = reference
            self.patterns = patterns
            self.selection = selection
            self.returns = returns
            self.status = status
        }
    }

    /// STORE's data item (RFC 9051 §6.4.6): replace, add or remove these flags.
    public struct StoreFlags: Hashable, Sendable {
        public enum Operation: Hashable, Sendable {
            case replace, add, remove
        }

        public var operation: Operation
        public var silent: Bool
        public var flags: [String]

        public init(operation: Operation, silent: Bool, flags: [String]) {
            self.operation = operation
            self.silent = silent
            self.flags = flags
        }
    }

    public struct IDField: Hashable, Sendable {
        public var name: [UInt8]
        public var value: [UInt8]?

        public init(name: [UInt8], value: [UInt8]?) {
            self.name = name
            self.value = value
        }
    }
}

/// Why a command could not be read: answered `BAD` with the tag when there is one.
public struct IMAPParseError: Error, Hashable, Sendable {
    public var tag: String?
    public var message: String

    public init(tag: String?, message: String) {
        self.tag = tag
        self.message = message
    }
}
