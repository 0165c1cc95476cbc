import Foundation
import MailCore

extension MailSendRequest {
    /// One message of a request: what to put in the queue for one personalization.
    public struct Message: Sendable {
        /// The envelope sender (the personalization's `from`, else the request's).
        public var from: EmailAddress
        /// Every recipient of the envelope: to, cc and bcc (bcc never in a header).
        public var recipients: [String]
        public var composed: ComposedMessage
        /// Custom args of the request with the personalization's on top (for events).
        public var customArgs: [String: String]
        public var sendAt: Int?
    }

    /// The messages of a valid request (check `MailSendValidation.errors` first), one per
    /// personalization, with substitutions applied to subject and contents.
    /// `messageID(n)` names the n-th message's Message-ID; `date` is its Date field.
    public func messages(messageID: (Int) -> String, date: String) -> [Message] {
        let baseContents = (content ?? []).map { ComposedMessage.Content(type: $0.type ?? "text/plain", value: $0.value ?? "") }
        let baseAttachments = (attachments ?? []).map { attachment in
            ComposedMessage.Attachment(
                content: Base64Text.decode((attachment.content ?? "").filter { !$0.isWhitespace }) ?? [], filename: attachment.filename ?? "",
                type: attachment.type ?? "application/octet-stream", disposition: attachment.disposition == "inline" ? .inline : .attachment,
                contentID: attachment.contentID)
        }
        func address(_ a: EmailAddress) -> ComposedMessage.Address { .init(email: a.email, name: a.name) }
        return (personalizations ?? []).enumerated().map { index, personalization in
            let substitutions = personalization.substitutions ?? [:]
            func substitute(_ text: String) -> String {
                // Longest keys first, so "-name-" never eats part of "-name-long-".
                substitutions.keys.sorted { $0.count > $1.count }.reduce(text) { $0.replacingAll($1, with: substitutions[$1]!) }
            }
            let sender = personalization.from ?? from!
            var composed = ComposedMessage(
                from: address(sender), to: (personalization.to ?? []).map(address), subject: substitute(personalization.subject ?? subject ?? ""),
                contents: baseContents.map { .init(type: $0.type, value: substitute($0.value)) }, messageID: messageID(index), date: date)
            composed.cc = (personalization.cc ?? []).map(address)
            composed.replyTo = replyTo.map { [address($0)] } ?? (replyToList ?? []).map(address)
            composed.attachments = baseAttachments
            var fields = headers ?? [:]
            for (name, value) in personalization.headers ?? [:] { fields[name] = value }
            composed.headers = fields.keys.sorted().map { ($0, fields[$0]!) }
            var args = customArgs ?? [:]
            for (key, value) in personalization.customArgs ?? [:] { args[key] = value }
            let recipients = (personalization.to ?? []) + (personalization.cc ?? []) + (personalization.bcc ?? [])
            return Message(
                from: sender, recipients: recipients.map(\.email), composed: composed, customArgs: args, sendAt: personalization.sendAt ?? sendAt)
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced, in one pass from the left (no re-scanning of what
    /// was put in, so a value containing its own key cannot loop).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
