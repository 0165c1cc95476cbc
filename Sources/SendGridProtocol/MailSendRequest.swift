import Foundation

/// The body of SendGrid's `POST /v3/mail/send`, as its public API reference describes it. Fields
/// Tern does not act on yet (tracking settings, templates) are kept so they can be stored.
public struct MailSendRequest: Codable, Sendable, Hashable {
    public struct EmailAddress: Codable, Sendable, Hashable {
        public var email: String
        public var name: String?

        public init(email: String, name: String? = nil) {
            self.email = email
            self.name = name
        }

        /// A missing `email` reads as "": validation then reports it with every other error
        /// of the request, instead of decoding stopping at the first.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            email = try container.decodeIfPresent(String.self, forKey: .email) ?? ""
            name = try container.decodeIfPresent(String.self, forKey: .name)
        }

        enum CodingKeys: String, CodingKey { case email, name }
    }

    public struct Personalization: Codable, Sendable, Hashable {
        public var to: [EmailAddress]?
        public var cc: [EmailAddress]?
        public var bcc: [EmailAddress]?
        public var from: EmailAddress?
        public var subject: String?
        public var headers: [String: String]?
        public var substitutions: [String: String]?
        public var customArgs: [String: String]?
        public var sendAt: Int?
        /// The data a dynamic template (`template_id`) is rendered with.
        public var dynamicTemplateData: JSONValue?

        enum CodingKeys: String, CodingKey {
            case to, cc, bcc, from, subject, headers, substitutions
            case customArgs = "custom_args"
            case sendAt = "send_at"
            case dynamicTemplateData = "dynamic_template_data"
        }

        public init(to: [EmailAddress]? = nil, cc: [EmailAddress]? = nil, bcc: [EmailAddress]? = nil, subject: String? = nil) {
            self.to = to
            self.cc = cc
            self.bcc = bcc
            self.subject = subject
        }
    }

    public struct Content: Codable, Sendable, Hashable {
        public var type: String?
        public var value: String?

        public init(type: String?, value: String?) {
            self.type = type
            self.value = value
        }
    }

    public struct Attachment: Codable, Sendable, Hashable {
        public var content: String?
        public var type: String?
        public var filename: String?
        public var disposition: String?
        public var contentID: String?

        enum CodingKeys: String, CodingKey {
            case content, type, filename, disposition
            case contentID = "content_id"
        }

        public init(content: String?, filename: String?, type: String? = nil, disposition: String? = nil, contentID: String? = nil) {
            self.content = content
            self.filename = filename
            self.type = type
            self.disposition = disposition
            self.contentID = contentID
        }
    }

    public struct Setting: Codable, Sendable, Hashable {
        public var enable: Bool?

        public init(enable: Bool?) {
            self.enable = enable
        }
    }

    public struct MailSettings: Codable, Sendable, Hashable {
        public var sandboxMode: Setting?
        public var bypassListManagement: Setting?
        public var bypassSpamManagement: Setting?
        public var bypassBounceManagement: Setting?
        public var bypassUnsubscribeManagement: Setting?

        enum CodingKeys: String, CodingKey {
            case sandboxMode = "sandbox_mode"
            case bypassListManagement = "bypass_list_management"
            case bypassSpamManagement = "bypass_spam_management"
            case bypassBounceManagement = "bypass_bounce_management"
            case bypassUnsubscribeManagement = "bypass_unsubscribe_management"
        }

        public init(sandboxMode: Setting? = nil) {
            self.sandboxMode = sandboxMode
        }
    }

    public struct ASM: Codable, Sendable, Hashable {
        public var groupID: Int?
        public var groupsToDisplay: [Int]?

        enum CodingKeys: String, CodingKey {
            case groupID = "group_id"
            case groupsToDisplay = "groups_to_display"
        }
    }

    public var personalizations: [Personalization]?
    public var from: EmailAddress?
    public var replyTo: EmailAddress?
    public var replyToList: [EmailAddress]?
    public var subject: String?
    public var content: [Content]?
    public var attachments: [Attachment]?
    public var templateID: String?
    public var headers: [String: String]?
    public var categories: [String]?
    public var customArgs: [String: String]?
    public var sendAt: Int?
    public var batchID: String?
    public var asm: ASM?
    public var ipPoolName: String?
    public var mailSettings: MailSettings?
    /// Kept as sent: click and open tracking, subscription and Google Analytics settings (the
    /// engagement issue applies them).
    public var trackingSettings: JSONValue?

    enum CodingKeys: String, CodingKey {
        case personalizations, from, subject, content, attachments, headers, categories, asm
        case replyTo = "reply_to"
        case replyToList = "reply_to_list"
        case templateID = "template_id"
        case customArgs = "custom_args"
        case sendAt = "send_at"
        case batchID = "batch_id"
        case ipPoolName = "ip_pool_name"
        case mailSettings = "mail_settings"
        case trackingSettings = "tracking_settings"
    }

    public init(
        personalizations: [Personalization]?, from: EmailAddress?, subject: String? = nil, content: [Content]? = nil,
        attachments: [Attachment]? = nil
    ) {
        self.personalizations = personalizations
        self.from = from
        self.subject = subject
        self.content = content
        self.attachments = attachments
    }

    /// What the queue keeps of a request beyond the message itself (`batch_id`,
    /// `tracking_settings`), as JSON text with sorted keys; nil when there is none.
    public var sendOptions: String? {
        var options: [String: JSONValue] = [:]
        if let batchID { options["batch_id"] = .string(batchID) }
        if let trackingSettings { options["tracking_settings"] = trackingSettings }
        guard !options.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(options)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `mail_settings.sandbox_mode.enable`: validate everything, send nothing, answer 200.
    public var isSandbox: Bool { mailSettings?.sandboxMode?.enable == true }
}
