/// What became of one recipient in one transaction.
public struct RecipientResult: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case delivered
        case deferred
        case rejected
    }

    public var reply: SMTPReply
    /// False when Tern decided without the peer saying so (a capability the message needs is
    /// missing, or the connection broke); the DSN then has no remote Diagnostic-Code.
    public var fromRemote: Bool

    public init(reply: SMTPReply, fromRemote: Bool = true) {
        self.reply = reply
        self.fromRemote = fromRemote
    }

    public var kind: Kind {
        if reply.isPositive { return .delivered }
        return reply.isTransientFailure ? .deferred : .rejected
    }
}
