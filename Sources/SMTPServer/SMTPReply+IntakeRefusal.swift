import MailService
import SMTPProtocol

extension SMTPReply {
    /// The exact reply for each refusal of the intake (RFC 5321 §4.2.3 codes, RFC 3463 statuses).
    public init(_ refusal: IntakeRefusal) {
        let text = refusal.explanation
        switch refusal {
        case .insufficientStorage: self = .insufficientStorage
        case .temporaryFailure: self.init(451, EnhancedStatus(4, 3, 0), text)
        case .storageFailed: self = .storageFailed
        case .planNotConfigured: self.init(451, EnhancedStatus(4, 7, 0), text)
        case .exceedsPlanSize, .tooManyHeaderFields, .trackedCopiesTooLarge: self.init(552, EnhancedStatus(5, 3, 4), text)
        case .mailLoop: self.init(554, EnhancedStatus(5, 4, 6), text)
        case .senderNotAllowed: self.init(553, EnhancedStatus(5, 7, 1), text)
        case .fromNotAllowed: self.init(550, EnhancedStatus(5, 7, 1), text)
        case .severalFromFields, .noFromField, .fromWithoutAddress: self.init(550, EnhancedStatus(5, 6, 0), text)
        case .tooManyRecipients: self.init(452, EnhancedStatus(4, 5, 3), text)
        case .limitReached: self.init(452, EnhancedStatus(4, 7, 1), text)
        case .relayDenied: self = .relayDenied
        case .noSuchUser: self = .noSuchUser
        case .mailboxFull, .noRoomForMessage: self.init(552, EnhancedStatus(5, 2, 2), text)
        case .dmarcReject: self.init(550, EnhancedStatus(5, 7, 1), text)
        }
    }
}
