import MailStore
import SendGridProtocol

extension EventFacts {
    /// An event row with what its message adds, in the terms of SendGrid's event shape (the
    /// webhook dispatcher and the activity API both show events this way).
    public init(_ event: QueueEvent, of recipient: RecipientActivity) {
        self.init(
            id: event.id, at: event.at, kind: event.type, email: event.recipient, sgMessageID: recipient.sgMessageID,
            smtpID: recipient.messageIDHeader, reply: event.reply, mxHost: event.mxHost, tls: event.tls, attempt: event.attempt,
            categories: recipient.tags.categories, customArgs: recipient.tags.customArgs, asmGroupID: recipient.tags.asmGroupID)
        sandbox = recipient.sandbox
        details = EventPayload.details(json: event.details)
    }
}
