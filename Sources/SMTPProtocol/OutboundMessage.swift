import MailCore

/// One recipient of an outbound transaction, with the RFC 3461 parameters it arrived with.
public struct OutboundRecipient: Hashable, Sendable {
    public var path: ForwardPath
    /// RFC 3461 NOTIFY, or nil.
    public var notify: DSNNotify?
    /// RFC 3461 ORCPT, or nil.
    public var originalRecipient: OriginalRecipient?

    public init(path: ForwardPath, notify: DSNNotify? = nil, originalRecipient: OriginalRecipient? = nil) {
        self.path = path
        self.notify = notify
        self.originalRecipient = originalRecipient
    }

    /// The address without brackets.
    public var address: String { path.description }
}

/// A message as handed to the next hop: envelope, what the body needs from the peer, content.
public struct OutboundMessage: Sendable {
    public var reversePath: ReversePath
    public var recipients: [OutboundRecipient]
    /// The stored message (header and body); line endings are normalised on the way out.
    public var content: [UInt8]
    /// RFC 3461 ENVID, decoded (it is xtext-encoded on the wire).
    public var envelopeID: String?
    /// RFC 3461 RET.
    public var dsnReturn: DSNReturn?
    /// The envelope or header needs SMTPUTF8 (RFC 6531).
    public var requiresSMTPUTF8: Bool
    /// The content has octets above 127 (RFC 6152).
    public var is8Bit: Bool

    public init(
        reversePath: ReversePath, recipients: [OutboundRecipient], content: [UInt8], envelopeID: String? = nil, dsnReturn: DSNReturn? = nil,
        requiresSMTPUTF8: Bool = false, is8Bit: Bool? = nil
    ) {
        self.reversePath = reversePath
        self.recipients = recipients
        self.content = content
        self.envelopeID = envelopeID
        self.dsnReturn = dsnReturn
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.is8Bit = is8Bit ?? content.contains { $0 >= 0x80 }
    }
}
