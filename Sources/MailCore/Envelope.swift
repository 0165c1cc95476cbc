/// The body type declared with MAIL BODY= (RFC 6152, RFC 3030).
public enum BodyType: String, Hashable, Sendable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
    case binaryMIME = "BINARYMIME"
}

/// Parameters of MAIL FROM (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 3461 RET/ENVID).
public struct MailParameters: Hashable, Sendable {
    public var size: Int?
    public var body: BodyType?
    public var smtpUTF8: Bool
    public var ret: DSNReturn?
    public var envelopeID: String?
    /// RFC 4954 §5: AUTH=<mailbox> or AUTH=<>.
    public var auth: String?

    public init(size: Int? = nil, body: BodyType? = nil, smtpUTF8: Bool = false, ret: DSNReturn? = nil, envelopeID: String? = nil, auth: String? = nil) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
        self.ret = ret
        self.envelopeID = envelopeID
        self.auth = auth
    }
}

/// Parameters of RCPT TO (RFC 3461 NOTIFY/ORCPT).
public struct RecipientParameters: Hashable, Sendable {
    public var notify: DSNNotify?
    public var originalRecipient: OriginalRecipient?

    public init(notify: DSNNotify? = nil, originalRecipient: OriginalRecipient? = nil) {
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// One accepted recipient of a transaction.
public struct EnvelopeRecipient: Hashable, Sendable {
    public var path: ForwardPath
    public var parameters: RecipientParameters

    public init(path: ForwardPath, parameters: RecipientParameters = RecipientParameters()) {
        self.path = path
        self.parameters = parameters
    }
}

/// What the SMTP transaction said about a message, apart from its content (RFC 5321 §2.3.1).
public struct Envelope: Hashable, Sendable {
    public var reversePath: ReversePath
    public var mailParameters: MailParameters
    public var recipients: [EnvelopeRecipient]

    public init(reversePath: ReversePath, mailParameters: MailParameters = MailParameters(), recipients: [EnvelopeRecipient] = []) {
        self.reversePath = reversePath
        self.mailParameters = mailParameters
        self.recipients = recipients
    }
}
