import Foundation
import MailCore

/// A domain Tern receives mail for.
public struct HostedDomain: Hashable, Sendable {
    public var name: String
    public var createdAt: Int

    public init(name: String, createdAt: Int) {
        self.name = name
        self.createdAt = createdAt
    }
}

/// A mailbox user of a hosted domain.
public struct MailUser: Hashable, Sendable {
    /// The normalised address (`MailboxAddress.normalized`).
    public var address: String
    public var passwordHash: String
    public var plan: String
    public var createdAt: Int
    /// SCRAM-SHA-256 keys (`SCRAMCredentials.encoded`), derived when the password is set.
    public var scram: String?
    /// CRAM-MD5 secret (password-equivalent), only when `[auth] cram_md5 = true`.
    public var cramSecret: String?
    /// An operator sees the whole server in the dashboard (the queue, every domain and user);
    /// any other user sees only its own account.
    public var isOperator: Bool

    public init(
        address: String, passwordHash: String, plan: String, createdAt: Int, scram: String? = nil, cramSecret: String? = nil,
        isOperator: Bool = false
    ) {
        self.isOperator = isOperator
        self.address = address
        self.passwordHash = passwordHash
        self.plan = plan
        self.createdAt = createdAt
        self.scram = scram
        self.cramSecret = cramSecret
    }
}

/// Where one recipient of a queued message stands.
public enum RecipientState: String, Hashable, Sendable, CaseIterable {
    case queued
    case delivering
    case deferred
    case delivered
    case bounced
    /// Not sent: the address is on a suppression list (SendGrid's `dropped`).
    case dropped
}

/// One recipient row of the queue.
public struct QueuedRecipient: Hashable, Sendable {
    public var address: String
    public var state: RecipientState
    public var attempts: Int
    public var lastReply: String?
    /// RFC 3461 NOTIFY as given on RCPT, or nil when absent.
    public var notify: DSNNotify?
    /// RFC 3461 ORCPT, or nil.
    public var originalRecipient: OriginalRecipient?
    /// Unix seconds of the next attempt (or of the lease's end while delivering).
    public var nextAttemptAt: Int?

    public init(
        address: String, state: RecipientState = .queued, attempts: Int = 0, lastReply: String? = nil, notify: DSNNotify? = nil,
        originalRecipient: OriginalRecipient? = nil, nextAttemptAt: Int? = nil
    ) {
        self.nextAttemptAt = nextAttemptAt
        self.address = address
        self.state = state
        self.attempts = attempts
        self.lastReply = lastReply
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// A message in the queue, without its content.
public struct QueuedMessage: Hashable, Sendable {
    public var id: String
    /// The Message-ID header's value, or nil when the message has none.
    public var messageID: String?
    /// The reverse path (`.null` for `<>`).
    public var from: ReversePath
    public var size: Int
    /// Unix seconds.
    public var createdAt: Int
    public var recipients: [QueuedRecipient]
    public var clientAddress: String?
    public var heloName: String?
    /// The account that sent it with AUTH (or a trusted network's account), if any.
    public var authenticatedAs: String?
    /// RFC 3461 RET and ENVID, kept for the bounces that delivery will send.
    public var dsnReturn: DSNReturn?
    public var envelopeID: String?
    public var bodyType: BodyType?
    public var smtpUTF8: Bool
    /// Why the message is to be filed as Junk (a DMARC `quarantine` verdict), or nil.
    public var quarantine: String?

    public init(
        id: String, messageID: String?, from: ReversePath, size: Int, createdAt: Int, recipients: [QueuedRecipient],
        clientAddress: String? = nil, heloName: String? = nil, dsnReturn: DSNReturn? = nil, envelopeID: String? = nil,
        bodyType: BodyType? = nil, smtpUTF8: Bool = false, authenticatedAs: String? = nil, quarantine: String? = nil
    ) {
        self.quarantine = quarantine
        self.authenticatedAs = authenticatedAs
        self.id = id
        self.messageID = messageID
        self.from = from
        self.size = size
        self.createdAt = createdAt
        self.recipients = recipients
        self.clientAddress = clientAddress
        self.heloName = heloName
        self.dsnReturn = dsnReturn
        self.envelopeID = envelopeID
        self.bodyType = bodyType
        self.smtpUTF8 = smtpUTF8
    }
}

/// A message the receiver has read completely and wants stored before it answers 250.
public struct IncomingMessage: Sendable {
    public var id: String
    public var envelope: Envelope
    /// The full message as stored, `Received:` header included.
    public var content: Data
    public var receivedAt: Int
    public var clientAddress: String?
    public var heloName: String?
    /// The authenticated account that sent it, and what it costs that account's plan.
    public var charge: UsageCharge?
    public var authenticatedAs: String?
    /// Set when inbound checks say the message goes to Junk (DMARC `quarantine`).
    public var quarantine: String?
    /// Unix seconds before which no delivery is tried (the send API's `send_at`).
    public var notBefore: Int?
    /// The API request this message came from, for its events' `sg_message_id`.
    public var request: SendRequestReference?
    /// Categories, custom args and suppression group for the message's events.
    public var tags = MessageTags()
    /// Recipients (by position) that are on a suppression list: stored as dropped with the
    /// reason, never sent.
    public var dropped: [Int: String] = [:]
    /// An account's message: the store looks its recipients up on the account's suppression
    /// lists (and the message's group) in the transaction that stores it, and stores those it
    /// finds as dropped. In the transaction, because the lists can be too large to hold in
    /// memory and the accept path must not wait on a separate read.
    public var suppressionCheck: SuppressionCheck?
    /// Kept in the account's sandbox inbox: every recipient final at once, nothing sent.
    public var sandbox = false
    /// What the send API asked beyond the message (`batch_id`, `tracking_settings`), as JSON.
    public var sendOptions: String?
    /// Recipients that are hosted mailboxes get the message in the transaction that stores it
    /// (mail received at the MX, as mox and Stalwart deliver it); the rest (remote recipients,
    /// aliases, catch-alls, postmaster, a full mailbox) wait in the queue as any mail.
    public var deliverToMailboxesAtOnce = false

    public init(
        id: String, envelope: Envelope, content: Data, receivedAt: Int, clientAddress: String?, heloName: String?, charge: UsageCharge? = nil,
        authenticatedAs: String? = nil, quarantine: String? = nil
    ) {
        self.quarantine = quarantine
        self.authenticatedAs = authenticatedAs
        self.id = id
        self.envelope = envelope
        self.content = content
        self.receivedAt = receivedAt
        self.clientAddress = clientAddress
        self.heloName = heloName
        self.charge = charge
    }

    /// The queue row this message becomes.
    public var queued: QueuedMessage {
        QueuedMessage(
            id: id,
            messageID: content.withUnsafeBytes { HeaderFields.firstValue(named: "Message-ID", in: $0) },
            from: envelope.reversePath,
            size: content.count,
            createdAt: receivedAt,
            recipients: envelope.recipients.map {
                QueuedRecipient(
                    address: $0.path.mailbox?.description ?? "postmaster",
                    notify: $0.parameters.notify,
                    originalRecipient: $0.parameters.originalRecipient)
            },
            clientAddress: clientAddress,
            heloName: heloName,
            dsnReturn: envelope.mailParameters.ret,
            envelopeID: envelope.mailParameters.envelopeID,
            bodyType: envelope.mailParameters.body,
            smtpUTF8: envelope.mailParameters.smtpUTF8,
            authenticatedAs: authenticatedAs, quarantine: quarantine)
    }
}

/// Where a message stands in the API request that sent it: the request's `X-Message-Id`, and
/// the ordinal of the message's first recipient among all recipients of the request, so each
/// recipient's `sg_message_id` is `<X-Message-Id>.<ordinal>` (SendGrid's form).
public struct SendRequestReference: Hashable, Sendable {
    public var requestID: String
    public var firstRecipient: Int

    public init(requestID: String, firstRecipient: Int) {
        self.requestID = requestID
        self.firstRecipient = firstRecipient
    }
}
