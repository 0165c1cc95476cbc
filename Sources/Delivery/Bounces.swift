import Foundation
import MailCore
import MailStore
import SMTPProtocol

/// Turns failed (or delayed) recipients of one message into the DSN that goes back to its
/// reverse path, as an `IncomingMessage` for the same queue (RFC 3464; RFC 3461 §6).
public enum Bounces {
    /// The DSN for `recipients` of `message`, or nil when none is due: a null reverse path
    /// never gets one (RFC 5321 §4.5.5), so bounces cannot loop.
    public static func notification(
        for message: QueuedMessage, content: [UInt8], recipients: [DeliveryStatusNotification.Recipient], hostname: String, now: Int
    ) -> IncomingMessage? {
        guard case .mailbox(let mailbox) = message.from, !recipients.isEmpty else { return nil }
        let sender = ForwardPath.mailbox(mailbox)
        let id = QueueID.make()
        let dsn = DeliveryStatusNotification(
            reportingMTA: hostname, to: mailbox.description, envelopeID: message.envelopeID, arrivalDate: message.createdAt, date: now,
            messageID: "\(id).dsn@\(hostname)", recipients: recipients, original: content,
            headersOnly: message.dsnReturn == .headers, boundary: "\(id)/\(hostname)")
        let envelope = Envelope(
            reversePath: .null, mailParameters: MailParameters(smtpUTF8: mailbox.requiresSMTPUTF8),
            recipients: [EnvelopeRecipient(path: sender, parameters: RecipientParameters(notify: DSNNotify(never: true)))])
        return IncomingMessage(
            id: id, envelope: envelope, content: Data(dsn.render()), receivedAt: now, clientAddress: nil, heloName: hostname)
    }

    /// The RFC 3463 status for a reply: its enhanced code, or one derived from the basic code.
    public static func status(of reply: SMTPReply) -> String {
        if let enhanced = reply.enhanced { return enhanced.description }
        return reply.isPermanentFailure ? "5.0.0" : reply.isTransientFailure ? "4.0.0" : "2.0.0"
    }
}
