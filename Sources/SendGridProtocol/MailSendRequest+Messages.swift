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

    /// The active version of the request's dynamic template (`template_id`), compiled.
    public struct Template: Sendable {
        public var id: String
        public var subject: DynamicTemplate?
        public var html: DynamicTemplate?
        public var plain: DynamicTemplate?

        public init(id: String, subject: DynamicTemplate?, html: DynamicTemplate?, plain: DynamicTemplate?) {
            self.id = id
            self.subject = subject
            self.html = html
            self.plain = plain
        }
    }

    /// A template that could not be rendered for a personalization.
    public struct TemplateFailure: Error, Sendable, Equatable {
        public var templateID: String
        public var personalization: Int
        public var failure: DynamicTemplate.Failure
    }

    /// The messages of a valid request (check `MailSendValidation.errors` first), one per
    /// personalization, with substitutions applied to subject and contents, or with `template`
    /// rendered with each personalization's `dynamic_template_data` (its subject, when it has
    /// one, replaces the request's).
    /// `messageID(n)` names the n-th message's Message-ID; `date` is its Date field.
    public func messages(messageID: (Int) -> String, date: String, template: Template) throws(TemplateFailure) -> [Message] {
        var rendered: [(subject: String?, contents: [ComposedMessage.Content])] = []
        for (index, personalization) in (personalizations ?? []).enumerated() {
            let data = personalization.dynamicTemplateData ?? .object([:])
            do {
                // text/plain first, then text/html (RFC 2046 §5.1.4: the preferred last).
                var contents: [ComposedMessage.Content] = []
                if let plain = template.plain { contents.append(.init(type: "text/plain", value: try plain.render(data))) }
                if let html = template.html { contents.append(.init(type: "text/html", value: try html.render(data))) }
                let subject = try template.subject?.render(data)
                rendered.append((subject.flatMap { $0.isEmpty ? nil : $0 }, contents))
            } catch {
                throw TemplateFailure(templateID: template.id, personalization: index, failure: error)
            }
        }
        return messages(messageID: messageID, date: date, rendered: rendered)
    }

    /// The messages of a request without a template.
    public func messages(messageID: (Int) -> String, date: String) -> [Message] {
        messages(messageID: messageID, date: date, rendered: [])
    }

    func messages(messageID: (Int) -> String, date: String, rendered: [(subject: String?, contents: [ComposedMessage.Content])]) -> [Message] {
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
            let template = index < rendered.count ? rendered[index] : nil
            // Legacy `substitutions` apply to a template's output as to the request's own content.
            let contents = (template?.contents ?? baseContents).map { ComposedMessage.Content(type: $0.type, value: substitute($0.value)) }
            var composed = ComposedMessage(
                from: address(sender), to: (personalization.to ?? []).map(address),
                subject: substitute(template?.subject ?? personalization.subject ?? subject ?? ""), contents: contents, messageID: messageID(index),
                date: date)
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
