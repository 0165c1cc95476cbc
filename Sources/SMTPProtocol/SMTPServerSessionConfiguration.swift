import NIOCore

/// Which service a listener provides; decides who may do what (RFC 6409 for submission).
public enum ListenerKind: String, Hashable, Sendable {
    /// Port-25 style MX: inbound mail for hosted domains only.
    case mx = "smtp"
    /// RFC 6409 submission with STARTTLS; AUTH required to send.
    case submission
    /// RFC 8314 submission over implicit TLS; AUTH required to send.
    case submissions
}

/// Everything a server session needs to know that does not change while it runs.
public struct SMTPServerSessionConfiguration: Sendable {
    public var hostname: String
    public var kind: ListenerKind
    /// Whether STARTTLS can be offered (a certificate is loaded and TLS is not already on).
    public var startTLSAvailable: Bool
    /// Whether the connection began in TLS (implicit TLS, RFC 8314).
    public var implicitTLS: Bool
    /// The client's address is in `relay.trusted_networks`: it may relay without AUTH.
    public var clientIsTrusted: Bool
    public var maximumMessageSize: Int
    public var maximumRecipients: Int
    /// Errors (5xx replies to commands) before the session is closed with 421.
    public var maximumErrors: Int
    /// MAIL commands that end in no stored message (reset, refused, abandoned) one connection may
    /// give before it is closed with 421 (issue 12 item 2): each may start SPF work, so a client
    /// pipelining endless MAIL/RSET pairs is cut off, while one delivering thousands of
    /// messages over a kept-open connection is not.
    public var maximumTransactions: Int
    /// SASL mechanisms offered with AUTH (RFC 4954), in order; empty: AUTH is not offered.
    public var authMechanisms: [String]
    /// RFC 6409 §4.2 / RFC 8314: authentication only inside TLS, so no password ever crosses the
    /// network in clear (AUTH before STARTTLS gets 538 5.7.11).
    public var authRequiresTLS: Bool
    /// RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for the next command.
    public var commandTimeout: TimeAmount
    /// The whole connection may last no longer than this.
    public var connectionTimeout: TimeAmount

    public init(
        hostname: String, kind: ListenerKind, startTLSAvailable: Bool = false, implicitTLS: Bool = false,
        clientIsTrusted: Bool = false, maximumMessageSize: Int = 26_214_400, maximumRecipients: Int = 100,
        maximumErrors: Int = 20, maximumTransactions: Int = 1000, authMechanisms: [String] = [], authRequiresTLS: Bool = true, commandTimeout: TimeAmount = .minutes(5),
        connectionTimeout: TimeAmount = .minutes(30)
    ) {
        self.hostname = hostname
        self.kind = kind
        self.startTLSAvailable = startTLSAvailable
        self.implicitTLS = implicitTLS
        self.clientIsTrusted = clientIsTrusted
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.maximumErrors = maximumErrors
        self.maximumTransactions = maximumTransactions
        self.authMechanisms = authMechanisms
        self.authRequiresTLS = authRequiresTLS
        self.commandTimeout = commandTimeout
        self.connectionTimeout = connectionTimeout
    }
}

/// What the session knows about the client when a message is handed over for storage; used to
/// write the `Received:` trace header (RFC 5321 §4.4).
public struct TransactionTrace: Hashable, Sendable {
    public var heloName: String
    /// RFC 3848 / RFC 6531 §3.7.3 "with" protocol: SMTP, ESMTP, ESMTPS, UTF8SMTPS, …
    public var withProtocol: String
    public var tls: Bool

    public init(heloName: String, withProtocol: String, tls: Bool) {
        self.heloName = heloName
        self.withProtocol = withProtocol
        self.tls = tls
    }
}
