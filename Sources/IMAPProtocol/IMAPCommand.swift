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
        case select(mailbox: [UInt8], condstore: Bool)
        case examine(mailbox: [UInt8], condstore: Bool)
        case create(mailbox: [UInt8])
        case delete(mailbox: [UInt8])
        case rename(from: [UInt8], to: [UInt8])
        case subscribe(mailbox: [UInt8])
        case unsubscribe(mailbox: [UInt8])
        /// The basic LIST form (reference and one pattern); LIST-EXTENDED comes with the session.
        case list(reference: [UInt8], pattern: [UInt8])
        case lsub(reference: [UInt8], pattern: [UInt8])
        case namespace
        case status(mailbox: [UInt8], items: [StatusItem])
        case idle
        case check
        case close
        case unselect
        case expunge
        case uidExpunge(SequenceSet)
        case copy(SequenceSet, mailbox: [UInt8], uid: Bool)
        case move(SequenceSet, mailbox: [UInt8], uid: Bool)
        /// RFC 2971: field/value pairs, or nil for `ID NIL`.
        case id([IDField]?)
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
