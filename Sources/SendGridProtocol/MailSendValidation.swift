import MailCore

/// The rules of `POST /v3/mail/send` (SendGrid's public error reference), checked all at once:
/// a request gets every error it has, each with its field path, as SendGrid answers them.
/// Pure: the account's sender domains, plan and suppressions are the application core's.
public enum MailSendValidation {
    public static let maximumPersonalizations = 1000
    public static let maximumRecipients = 1000
    public static let maximumCategories = 10
    public static let maximumCategoryLength = 255
    public static let maximumCustomArgsBytes = 10_000
    /// `send_at` may be at most 72 hours ahead.
    public static let maximumScheduleSeconds = 72 * 3600

    /// Header fields a request may not set: Tern writes them from the request itself, or they
    /// belong to transport and authentication (SendGrid reserves the same kind).
    public static let reservedHeaders: Set<String> = [
        "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version", "content-type",
        "content-transfer-encoding", "received", "return-path", "dkim-signature", "authentication-results", "x-sg-id", "x-sg-eid",
    ]

    /// Every error of `request`; empty when it may be sent. `now` is Unix seconds.
    public static func errors(in request: MailSendRequest, now: Int) -> [APIError] {
        var errors: [APIError] = []
        func fail(_ message: String, _ field: String?) { errors.append(APIError(message, field: field)) }

        // Personalizations and their recipients.
        let personalizations = request.personalizations ?? []
        if personalizations.isEmpty {
            fail("The personalizations field is required and must have at least one personalization.", "personalizations")
        } else if personalizations.count > maximumPersonalizations {
            fail(
                "The personalization block is limited to \(maximumPersonalizations) personalizations per API request. You have provided \(personalizations.count) personalizations.",
                "personalizations")
        }
        var total = 0
        for (p, personalization) in personalizations.enumerated() {
            let base = "personalizations.\(p)"
            if (personalization.to ?? []).isEmpty {
                fail("The to array is required for all personalization objects, and must have at least one email object with a valid email address.", "\(base).to")
            }
            var seen: Set<String> = []
            var duplicateReported = false
            for (kind, list) in [("to", personalization.to ?? []), ("cc", personalization.cc ?? []), ("bcc", personalization.bcc ?? [])] {
                for (i, address) in list.enumerated() {
                    total += 1
                    if !isValidAddress(address.email) { fail("Does not contain a valid address.", "\(base).\(kind).\(i).email") }
                    let key = address.email.lowercased()
                    if !seen.insert(key).inserted && !duplicateReported {
                        duplicateReported = true
                        fail(
                            "Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [\(address.email)] in the \(base).\(kind) field.",
                            base)
                    }
                }
            }
            if let from = personalization.from, !isValidAddress(from.email) { fail("Does not contain a valid address.", "\(base).from.email") }
            if let headers = personalization.headers { errors += headerErrors(headers, field: "\(base).headers") }
            if let args = personalization.customArgs, customArgsSize(args) > maximumCustomArgsBytes {
                fail("The custom_args parameter is limited to \(maximumCustomArgsBytes) bytes.", "\(base).custom_args")
            }
            if let sendAt = personalization.sendAt, sendAt > now + maximumScheduleSeconds {
                fail("The send_at parameter may not be more than 72 hours in the future.", "\(base).send_at")
            }
        }
        if total > maximumRecipients { fail("There is a limit of \(maximumRecipients) total recipients (to + cc + bcc) per request.", "personalizations") }

        // The sender and replies.
        if let from = request.from {
            if !isValidAddress(from.email) { fail("The from email does not contain a valid address.", "from.email") }
        } else {
            fail("The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.", "from")
        }
        if let replyTo = request.replyTo, !isValidAddress(replyTo.email) { fail("The reply_to email does not contain a valid address.", "reply_to.email") }
        if request.replyTo != nil && request.replyToList != nil { fail("The reply_to and reply_to_list fields cannot both be set.", "reply_to_list") }
        for (i, address) in (request.replyToList ?? []).enumerated() where !isValidAddress(address.email) {
            fail("Does not contain a valid address.", "reply_to_list.\(i).email")
        }

        // Subject and content.
        let everyPersonalizationHasSubject = !personalizations.isEmpty && personalizations.allSatisfy { !($0.subject ?? "").isEmpty }
        if (request.subject ?? "").isEmpty && !everyPersonalizationHasSubject && request.templateID == nil {
            fail(
                "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
                "subject")
        }
        let contents = request.content ?? []
        if contents.isEmpty && request.templateID == nil {
            fail(
                "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.",
                "content")
        }
        var order: [Int] = []
        for (i, content) in contents.enumerated() {
            guard let type = content.type?.lowercased(), !type.isEmpty else {
                fail("The content type must be provided.", "content.\(i).type")
                continue
            }
            if type.contains(";") || type.contains("\r") || type.contains("\n") {
                fail("The content type cannot contain ';', or CRLF characters.", "content.\(i).type")
            }
            if (content.value ?? "").isEmpty { fail("The content value must be a string at least one character in length.", "content.\(i).value") }
            order.append(type == "text/plain" ? 0 : type == "text/html" ? 1 : 2)
        }
        if order != order.sorted() {
            fail("If present, text/plain must be first, followed by text/html, followed by any other content.", "content")
        }

        // Attachments.
        for (i, attachment) in (request.attachments ?? []).enumerated() {
            let base = "attachments.\(i)"
            if let content = attachment.content, !content.isEmpty {
                if Base64Text.decode(content.filter { !$0.isWhitespace }) == nil {
                    fail("The attachment content must be base64 encoded.", "\(base).content")
                }
            } else {
                fail("The attachment content is required.", "\(base).content")
            }
            if (attachment.filename ?? "").isEmpty { fail("The attachment filename parameter is required.", "\(base).filename") }
            if let type = attachment.type, type.contains(";") || type.contains("\r") || type.contains("\n") {
                fail("The attachment type cannot contain ';', or CRLF characters.", "\(base).type")
            }
            switch attachment.disposition {
            case nil, "attachment": break
            case "inline":
                if (attachment.contentID ?? "").isEmpty {
                    fail("The content_id parameter is required if your attachment disposition is set to inline.", "\(base).content_id")
                }
            default:
                fail("The disposition of your attachment can be either \"inline\" or \"attachment\".", "\(base).disposition")
            }
        }

        // Everything else.
        if let headers = request.headers { errors += headerErrors(headers, field: "headers") }
        let categories = request.categories ?? []
        if categories.count > maximumCategories {
            fail("Too many categories. The categories parameter is limited to \(maximumCategories) categories.", "categories")
        }
        for (i, category) in categories.enumerated() where category.count > maximumCategoryLength {
            fail("A category cannot be more than \(maximumCategoryLength) characters.", "categories.\(i)")
        }
        if let args = request.customArgs, customArgsSize(args) > maximumCustomArgsBytes {
            fail("The custom_args parameter is limited to \(maximumCustomArgsBytes) bytes.", "custom_args")
        }
        if let sendAt = request.sendAt, sendAt > now + maximumScheduleSeconds {
            fail("The send_at parameter may not be more than 72 hours in the future.", "send_at")
        }
        return errors
    }

    /// A header name is a token of printable ASCII without ":"; a value has no line break.
    static func headerErrors(_ headers: [String: String], field: String) -> [APIError] {
        var errors: [APIError] = []
        for name in headers.keys.sorted() {
            let value = headers[name]!
            let lower = name.lowercased()
            if reservedHeaders.contains(lower) {
                errors.append(APIError("The following header is reserved and cannot be used: \(name)", field: "\(field).\(name)"))
            } else if name.isEmpty || !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) {
                errors.append(APIError("Invalid header name.", field: "\(field).\(name)"))
            } else if value.contains("\r") || value.contains("\n") {
                errors.append(APIError("Header values cannot contain line breaks.", field: "\(field).\(name)"))
            }
        }
        return errors
    }

    /// The size SendGrid counts for custom args: their JSON text.
    static func customArgsSize(_ args: [String: String]) -> Int {
        args.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 }
    }

    static func isValidAddress(_ text: String) -> Bool {
        guard let address = try? MailboxAddress(parsing: text, allowUTF8: true) else { return false }
        return address.domain.kind == .name
    }
}
