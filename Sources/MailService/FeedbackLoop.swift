import Engagement
import MailCore
import MailStore

/// Abuse reports from mailbox providers' feedback loops (ARF, RFC 5965) received at
/// `[engagement] abuse_address`: the report is matched to the account's original message by its
/// Message-ID field and recipient (Original-Rcpt-To, else the original's To, else the message's
/// only recipient); the recipient goes on the account's spam reports and a `spamreport` event
/// is recorded. A report that matches nothing changes nothing: a forged report must name a real
/// message and one of its real recipients.
public struct FeedbackLoop: Sendable {
    /// Normalized (lowercased) abuse address.
    public let address: String
    let store: any EngagementRepository
    let suppressions: any SuppressionRepository
    let clock: @Sendable () -> Int

    public init(
        address: String, store: any EngagementRepository, suppressions: any SuppressionRepository,
        clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }
    ) {
        self.address = address.lowercased()
        self.store = store
        self.suppressions = suppressions
        self.clock = clock
    }

    /// Whether `envelope` has the abuse address among its recipients.
    public func isAddressed(_ envelope: Envelope) -> Bool {
        envelope.recipients.contains { $0.path.mailbox?.normalized == address }
    }

    /// Handles one received message; the recipient it suppressed, or nil when it was not a
    /// report or matched nothing.
    @discardableResult
    public func handle(_ message: [UInt8]) async -> TrackedRecipient? {
        guard let report = FeedbackReport(message: message), report.feedbackType != "not-spam", let messageID = report.originalMessageID else {
            return nil
        }
        var address = report.originalRecipient.flatMap { $0.contains("@") ? $0 : nil }
        if address == nil, let to = report.originalField("To") {
            let addresses = AddressList.addrSpecs(in: to)
            if addresses.count == 1 { address = addresses[0] }
        }
        var found = try? await store.reportedRecipient(messageIDHeader: messageID, address: address)
        if found == nil, address != nil {
            // A redacted or rewritten recipient: the message's only recipient still names it.
            found = try? await store.reportedRecipient(messageIDHeader: messageID, address: nil)
        }
        guard let recipient = found, let account = recipient.account else { return nil }
        let now = clock()
        try? await suppressions.addSuppressions([Suppression(account: account, list: .spamReports, email: recipient.address, createdAt: now)])
        try? await store.recordEngagement("spamreport", for: recipient, at: now, details: nil)
        return recipient
    }
}
