import Foundation
import HTTPTypes
import Hummingbird
import MailCore
import MailService
import MailStore
import NIOCore
import SendGridProtocol

/// `POST /v3/mail/send`, SendGrid's request exactly: validated as a whole (every error at
/// once), one MIME message per personalization, then the same `MessageIntake` as SMTP
/// submission (sender domains, plan and quota, DKIM signing, the durable write). `202` only once
/// every message is on stable storage; all of a request's messages are stored together or none.
struct MailSendEndpoint {
    let intake: MessageIntake
    let hostname: String
    /// Dynamic templates for `template_id`; nil: a template id is an error.
    var templates: TemplateCatalog?

    /// SendGrid's limit on a whole request (message, attachments, JSON).
    static let maximumBody = 30 * 1024 * 1024

    func send(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.mailSend)
        let body = try BodyReader.decode(MailSendRequest.self, from: try await BodyReader.bytes(of: request, limit: Self.maximumBody))
        let now = intake.clock()
        let errors = MailSendValidation.errors(in: body, now: now)
        guard errors.isEmpty else { throw APIFailure(.badRequest, errors) }

        let requestID = Self.makeRequestID()
        let hostname = self.hostname
        let messageID: (Int) -> String = { "<\(requestID).\($0)@\(hostname)>" }
        let date = MessageDate.rfc5322(unixSeconds: now)
        let messages: [MailSendRequest.Message]
        if let templateID = body.templateID {
            // The account's template, its active version rendered per personalization.
            guard let template = await templates?.compiled(id: templateID, account: key.user) else {
                throw APIFailure(.badRequest, "The template_id must be a valid template of this account with an active version.", field: "template_id")
            }
            do {
                messages = try body.messages(messageID: messageID, date: date, template: template)
            } catch {
                throw APIFailure(
                    .badRequest, "template \(error.templateID): \(error.failure)",
                    field: "personalizations.\(error.personalization).dynamic_template_data")
            }
        } else {
            messages = body.messages(messageID: messageID, date: date)
        }
        var submissions: [Submission] = []
        for (index, message) in messages.enumerated() {
            submissions.append(try Self.submission(message, personalization: index, in: body))
        }
        var origin = MessageOrigin(clientAddress: context.clientAddress, account: key.user, atMX: false)
        origin.sandbox = key.sandbox
        let result = await intake.submit(
            submissions, withProtocol: context.overTLS ? "HTTPS" : "HTTP", origin: origin, request: requestID, store: !body.isSandbox)
        var headers = rateLimitHeaders(account: key.user)
        switch result {
        case .accepted(let ids):
            if !ids.isEmpty { ServiceMetrics.accepted(listener: context.overTLS ? "https" : "http", messages: ids.count) }
            // Sandbox mode: everything was checked, nothing was stored (SendGrid answers 200).
            if body.isSandbox { return Response(status: .ok, headers: headers) }
            headers[HTTPField.Name("X-Message-Id")!] = requestID
            return Response(status: .accepted, headers: headers)
        case .refused(let refusals):
            throw Self.failure(refusals, in: body, headers: headers)
        }
    }

    /// The X-RateLimit fields of the account's tightest plan limit (none when it has none).
    func rateLimitHeaders(account: String) -> HTTPFields {
        var headers = HTTPFields()
        guard let (limit, remaining) = intake.remainingUsage(account: account) else { return headers }
        headers[HTTPField.Name("X-RateLimit-Limit")!] = String(limit.limit)
        headers[HTTPField.Name("X-RateLimit-Remaining")!] = String(remaining)
        headers[HTTPField.Name("X-RateLimit-Reset")!] = String(limit.resetsAt)
        return headers
    }

    /// SendGrid's X-Message-Id form: 22 characters of base64url (16 random bytes), which are
    /// also valid in a Message-ID's dot-atom (RFC 5322 §3.6.4).
    static func makeRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return String(
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").prefix(22))
    }

    /// A MIME boundary no content can contain by chance (RFC 2046 §5.1.1: up to 70 characters).
    static func makeBoundary(_ depth: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return "tern-\(depth)-" + String((0..<28).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }

    /// One personalization as the intake takes it: envelope and rendered content.
    static func submission(_ message: MailSendRequest.Message, personalization index: Int, in body: MailSendRequest) throws(APIFailure)
        -> Submission
    {
        let senderField = body.personalizations?[index].from == nil ? "from.email" : "personalizations.\(index).from.email"
        guard let sender = try? ReversePath(parsing: "<\(message.from.email)>", allowUTF8: true), sender.mailbox != nil else {
            throw APIFailure(.badRequest, "The from email does not contain a valid address.", field: senderField)
        }
        var recipients: [EnvelopeRecipient] = []
        for (position, address) in message.recipients.enumerated() {
            guard let path = try? ForwardPath(parsing: "<\(address)>", allowUTF8: true), path.mailbox != nil else {
                throw APIFailure(.badRequest, "Does not contain a valid address.", field: recipientField(index, position, in: body))
            }
            recipients.append(EnvelopeRecipient(path: path))
        }
        var parameters = MailParameters()
        // RFC 6531: an address outside ASCII needs SMTPUTF8 on the way out.
        parameters.smtpUTF8 = ([message.from.email] + message.recipients).contains { !$0.allSatisfy(\.isASCII) }
        let content = ByteBuffer(bytes: message.composed.render(boundary: makeBoundary))
        var submission = Submission(
            envelope: Envelope(reversePath: sender, mailParameters: parameters, recipients: recipients), content: content,
            notBefore: message.sendAt, tags: MessageTags(categories: body.categories ?? [], customArgs: message.customArgs, asmGroupID: body.asm?.groupID),
            bypass: bypass(body.mailSettings))
        submission.sendOptions = body.sendOptions
        if body.trackingSettings != nil { submission.trackingSettings = TrackingSettings(json: body.trackingSettings) }
        return submission
    }

    /// The suppression lists `mail_settings` tells this request to ignore.
    static func bypass(_ settings: MailSendRequest.MailSettings?) -> SuppressionBypass {
        guard let settings else { return [] }
        if settings.bypassListManagement?.enable == true { return .all }
        var bypass: SuppressionBypass = []
        if settings.bypassBounceManagement?.enable == true { bypass.insert(.bounces) }
        if settings.bypassSpamManagement?.enable == true { bypass.insert(.spamReports) }
        if settings.bypassUnsubscribeManagement?.enable == true { bypass.insert(.unsubscribes) }
        return bypass
    }

    /// The request field of recipient `position` (to, then cc, then bcc) of personalization `index`.
    static func recipientField(_ index: Int, _ position: Int, in body: MailSendRequest) -> String {
        let personalization = body.personalizations?[index]
        var rest = position
        for (name, list) in [("to", personalization?.to), ("cc", personalization?.cc), ("bcc", personalization?.bcc)] {
            let count = list?.count ?? 0
            if rest < count { return "personalizations.\(index).\(name).\(rest).email" }
            rest -= count
        }
        return "personalizations.\(index)"
    }

    /// The answer to what the intake refused: one status for the request, every refusal as an
    /// error naming its field.
    static func failure(_ refusals: [SubmissionRefusal], in body: MailSendRequest, headers: HTTPFields) -> APIFailure {
        if let first = refusals.first, case .request(let refusal) = first { return requestFailure(refusal, headers: headers) }
        var errors: [APIError] = []
        var status = HTTPResponse.Status.badRequest
        for refusal in refusals {
            switch refusal {
            case .sender(let index, let reason):
                let field = body.personalizations?[index].from == nil ? "from.email" : "personalizations.\(index).from.email"
                errors.append(APIError(message(reason), field: field))
            case .recipient(let index, let position, let reason):
                errors.append(APIError(message(reason), field: recipientField(index, position, in: body)))
            case .content(let index, let reason):
                let field: String? =
                    switch reason {
                    case .fromNotAllowed, .severalFromFields, .noFromField, .fromWithoutAddress: "from.email"
                    case .tooManyHeaderFields, .mailLoop: "headers"
                    case .exceedsPlanSize, .trackedCopiesTooLarge: nil
                    default: "personalizations.\(index)"
                    }
                errors.append(APIError(message(reason), field: field))
            case .request(let reason):
                errors.append(APIError(message(reason)))
            }
            // One status for the request: the highest code among the refusals (5xx over 4xx).
            let this = Self.status(refusal.refusal)
            if this.code > status.code { status = this }
        }
        return APIFailure(status, errors, headers: headers)
    }

    /// A refusal of the request as a whole: a used-up plan (429 with the limit's reset time),
    /// storage trouble (503, try again), or no account (401).
    static func requestFailure(_ refusal: IntakeRefusal, headers: HTTPFields) -> APIFailure {
        var headers = headers
        switch refusal {
        case .limitReached(let limit, _):
            headers[HTTPField.Name("X-RateLimit-Limit")!] = String(limit.limit)
            headers[HTTPField.Name("X-RateLimit-Remaining")!] = "0"
            headers[HTTPField.Name("X-RateLimit-Reset")!] = String(limit.resetsAt)
            return APIFailure(.tooManyRequests, [APIError(refusal.explanation)], headers: headers)
        case .relayDenied:
            return .unauthorized
        default:
            if refusal.isTemporary { headers[.retryAfter] = "60" }
            return APIFailure(status(refusal), [APIError(message(refusal))], headers: headers)
        }
    }

    /// The HTTP status a refusal stands for; the most severe of a request's refusals is sent.
    static func status(_ refusal: IntakeRefusal) -> HTTPResponse.Status {
        switch refusal {
        case .senderNotAllowed, .fromNotAllowed: .forbidden
        case .exceedsPlanSize, .trackedCopiesTooLarge: .contentTooLarge
        case .limitReached: .tooManyRequests
        case .insufficientStorage, .temporaryFailure, .storageFailed, .planNotConfigured: .serviceUnavailable
        default: .badRequest
        }
    }

    /// SendGrid's words where it has them (an unverified sender), Tern's explanation otherwise.
    static func message(_ refusal: IntakeRefusal) -> String {
        switch refusal {
        case .senderNotAllowed, .fromNotAllowed:
            "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. (\(refusal.explanation))"
        default: refusal.explanation
        }
    }
}
