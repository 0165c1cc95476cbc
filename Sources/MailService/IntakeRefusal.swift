import MailCore
import MailStore

/// Why `MessageIntake` will not take a sender, a recipient or a message. Each front end maps a
/// case to its own answer: SMTP to one exact reply code and enhanced status (RFC 3463), the HTTP
/// API to a status and an error object; `explanation` is the text both show.
public enum IntakeRefusal: Error, Hashable, Sendable {
    /// The data disk is below its free-space floor (RFC 5321 §4.5.3.1.10): SMTP 452 4.3.1.
    case insufficientStorage
    /// A directory lookup failed; try again later: SMTP 451 4.3.0.
    case temporaryFailure
    /// The message could not be stored; try again later: SMTP 451 4.3.0.
    case storageFailed
    /// The account's plan is missing from the configuration: SMTP 451 4.7.0.
    case planNotConfigured(plan: String, account: String)
    /// Bigger than the account's plan allows: SMTP 552 5.3.4.
    case exceedsPlanSize(maximum: Int)
    /// Tracking gives each recipient its own copy; all the copies together would pass this
    /// many octets (memory held for one message stays bounded).
    case trackedCopiesTooLarge(maximum: Int)
    /// MAIL FROM in a domain the account may not use (RFC 6409 §6.1): SMTP 553 5.7.1.
    case senderNotAllowed(address: String, account: String)
    /// A header From address the account may not use: SMTP 550 5.7.1.
    case fromNotAllowed(address: String, account: String)
    /// A header section with more fields than anyone sends (work on it would be unbounded):
    /// SMTP 552 5.3.4.
    case tooManyHeaderFields(limit: Int)
    /// More `Received:` fields than any real path has: a mail loop (RFC 5321 §6.3): SMTP 554 5.4.6.
    case mailLoop(hops: Int)
    /// RFC 5322 §3.6: more than one From field: SMTP 550 5.6.0.
    case severalFromFields
    /// RFC 5322 §3.6: no From field (submission only): SMTP 550 5.6.0.
    case noFromField
    /// A From field with no address in it: SMTP 550 5.6.0.
    case fromWithoutAddress
    /// More recipients than the plan allows in one message: SMTP 452 4.5.3.
    case tooManyRecipients(maximum: Int)
    /// A sending quota is used up until `limit.resetsAt`: SMTP 452 4.7.1.
    case limitReached(UsageLimit, account: String)
    /// Not a hosted domain, and the sender may not relay: SMTP 550 5.7.1.
    case relayDenied
    /// A hosted domain without that user: SMTP 550 5.1.1.
    case noSuchUser
    /// The recipient's mailbox is full (RFC 3463 X.2.2): SMTP 552 5.2.2.
    case mailboxFull(address: String)
    /// No recipient's mailbox has room for this message: SMTP 552 5.2.2.
    case noRoomForMessage(user: String, size: Int)
    /// DMARC `p=reject` (RFC 7489 §6.7, §10.3), after the content: SMTP 550 5.7.1.
    case dmarcReject(fromDomain: String?, reason: String?)

    /// The human part of the answer.
    public var explanation: String {
        switch self {
        case .insufficientStorage: "Insufficient system storage"
        case .temporaryFailure: "Temporary lookup failure"
        case .storageFailed: "Local error in processing; try again later"
        case .planNotConfigured(let plan, let account): "Plan \(plan) of \(account) is not configured"
        case .exceedsPlanSize(let maximum): "Message size exceeds the plan's maximum of \(maximum) octets"
        case .trackedCopiesTooLarge(let maximum):
            "Tracked copies for every recipient would exceed \(maximum) octets; send to fewer recipients per message"
        case .senderNotAllowed(let address, let account): "Sender address <\(address)> is not one \(account) may send as"
        case .fromNotAllowed(let address, let account): "From: \(address) is not an address \(account) may send as"
        case .tooManyHeaderFields(let limit): "Message header has more than \(limit) fields"
        case .mailLoop(let hops): "Mail loop: the message has passed through more than \(hops) hosts"
        case .severalFromFields: "Message has more than one From header (RFC 5322 §3.6)"
        case .noFromField: "Message has no From header (RFC 5322 §3.6)"
        case .fromWithoutAddress: "From header has no address"
        case .tooManyRecipients(let maximum): "Too many recipients: the plan allows \(maximum) per message"
        case .limitReached(let limit, let account):
            "\(account) reached its \(limit.name) limit of \(limit.limit) \(limit.perRecipient ? "recipients" : "messages"); it resets at \(MessageDate.rfc3339(unixSeconds: limit.resetsAt))"
        case .relayDenied: "Relay access denied"
        case .noSuchUser: "No such user here"
        case .mailboxFull(let address): "Mailbox of <\(address)> is full"
        case .noRoomForMessage(let user, let size): "Mailbox of <\(user)> has no room for a message of \(size) octets"
        case .dmarcReject(let domain, let reason):
            "Message rejected by the DMARC policy of \(domain ?? "the From domain"): \(reason ?? "not authenticated")"
        }
    }

    /// Whether trying again later may succeed (SMTP 4xx, HTTP 429/503).
    public var isTemporary: Bool {
        switch self {
        case .insufficientStorage, .temporaryFailure, .storageFailed, .planNotConfigured, .tooManyRecipients, .limitReached: true
        default: false
        }
    }
}
