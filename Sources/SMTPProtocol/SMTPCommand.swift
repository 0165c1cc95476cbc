import MailCore

/// One SMTP command as the server receives it (RFC 5321 §4.1.1, plus the ESMTP extensions Tern offers).
public enum SMTPCommand: Hashable, Sendable {
    case helo(String)
    case ehlo(String)
    case mail(ReversePath, MailParameters)
    case rcpt(ForwardPath, RecipientParameters)
    case data
    /// RFC 3030: BDAT chunk-size [LAST].
    case bdat(size: Int, last: Bool)
    case rset
    case noop
    case quit
    case vrfy(String)
    case expn(String)
    case help(String?)
    case startTLS
    /// RFC 4954: AUTH mechanism [initial-response].
    case auth(mechanism: String, initialResponse: String?)
}

/// Why a command line was refused; each case maps to exactly one reply.
public enum SMTPCommandError: Error, Hashable, Sendable {
    case unrecognized
    case lineTooLong
    case syntax(String)
    case invalidSender(AddressError)
    case invalidRecipient(AddressError)
    case unknownParameter(String)
    case invalidParameter(String)

    public var reply: SMTPReply {
        switch self {
        case .unrecognized: .unrecognized
        // RFC 5321 §4.5.3.1.4 / §4.2.2: 500 for a line too long.
        case .lineTooLong: .lineTooLong
        case .syntax(let text): SMTPReply(501, EnhancedStatus(5, 5, 4), "Syntax: \(text)")
        case .invalidSender(let e) where e == .utf8NotAllowed: .utf8NeedsSMTPUTF8
        case .invalidRecipient(let e) where e == .utf8NotAllowed: .utf8NeedsSMTPUTF8
        // RFC 3463: X.1.7 bad sender address syntax, X.1.3 bad destination address syntax.
        case .invalidSender(let e): SMTPReply(501, EnhancedStatus(5, 1, 7), "Bad sender address: \(e.reason)")
        case .invalidRecipient(let e): SMTPReply(501, EnhancedStatus(5, 1, 3), "Bad recipient address: \(e.reason)")
        // RFC 5321 §4.1.1.11: 555 when a MAIL/RCPT parameter is not recognised.
        case .unknownParameter(let name): SMTPReply(555, EnhancedStatus(5, 5, 4), "Unsupported parameter \(name)")
        case .invalidParameter(let name): SMTPReply(501, EnhancedStatus(5, 5, 4), "Invalid value for parameter \(name)")
        }
    }
}
