import Foundation
import Hummingbird
import MailCore
import MailStore
import SendGridProtocol

/// SendGrid's Email Activity API: `GET /v3/messages` (recipients of the account's messages,
/// newest first, filtered by `query`) and `GET /v3/messages/{msg_id}` (one recipient with its
/// events in order). A "message" here is one recipient, named by its `sg_message_id`.
struct ActivityEndpoint {
    let activity: any ActivityRepository

    static let maximumLimit = 1000

    struct Summary: Encodable {
        var fromEmail: String
        var msgID: String
        var subject: String
        var toEmail: String
        var status: String
        var opensCount = 0
        var clicksCount = 0
        var lastEventTime: String
        enum CodingKeys: String, CodingKey {
            case subject, status
            case fromEmail = "from_email"
            case msgID = "msg_id"
            case toEmail = "to_email"
            case opensCount = "opens_count"
            case clicksCount = "clicks_count"
            case lastEventTime = "last_event_time"
        }
        init(_ recipient: RecipientActivity) {
            fromEmail = recipient.from
            msgID = recipient.sgMessageID
            subject = recipient.subject ?? ""
            toEmail = recipient.to
            status = ActivityEndpoint.status(recipient.state)
            opensCount = recipient.opens
            clicksCount = recipient.clicks
            lastEventTime = MessageDate.rfc3339(unixSeconds: recipient.lastEventAt)
        }
    }

    struct Listing: Encodable {
        var messages: [Summary]
    }

    struct Detail: Encodable {
        var fromEmail: String
        var msgID: String
        var subject: String
        var toEmail: String
        var status: String
        var categories: [String]
        var uniqueArgs: [String: String]
        var asmGroupID: Int?
        var originatingIP: String
        var opensCount: Int
        var clicksCount: Int
        /// Clicks per tracked link (by its number in the message and URL).
        var links: [Link]
        var events: [Event]
        enum CodingKeys: String, CodingKey {
            case subject, status, categories, events, links
            case opensCount = "opens_count"
            case clicksCount = "clicks_count"
            case fromEmail = "from_email"
            case msgID = "msg_id"
            case toEmail = "to_email"
            case uniqueArgs = "unique_args"
            case asmGroupID = "asm_group_id"
            case originatingIP = "originating_ip"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(fromEmail, forKey: .fromEmail)
            try container.encode(msgID, forKey: .msgID)
            try container.encode(subject, forKey: .subject)
            try container.encode(toEmail, forKey: .toEmail)
            try container.encode(status, forKey: .status)
            try container.encode(categories, forKey: .categories)
            try container.encode(uniqueArgs, forKey: .uniqueArgs)
            try container.encode(asmGroupID, forKey: .asmGroupID)
            try container.encode(originatingIP, forKey: .originatingIP)
            try container.encode(opensCount, forKey: .opensCount)
            try container.encode(clicksCount, forKey: .clicksCount)
            try container.encode(links, forKey: .links)
            try container.encode(events, forKey: .events)
        }
    }

    struct Link: Encodable, Equatable {
        var url: String
        var urlOffset: Int
        var clicks: Int
        enum CodingKeys: String, CodingKey {
            case url, clicks
            case urlOffset = "url_offset"
        }
    }

    /// Click counts per link, in link order, from the recipient's click events.
    static func links(_ payloads: [[String: JSONValue]]) -> [Link] {
        var counts: [Int: Link] = [:]
        for payload in payloads where payload["event"] == .string("click") {
            guard case .string(let url)? = payload["url"], case .object(let offset)? = payload["url_offset"], case .int(let index)? = offset["index"]
            else { continue }
            counts[index, default: Link(url: url, urlOffset: index, clicks: 0)].clicks += 1
        }
        return counts.keys.sorted().map { counts[$0]! }
    }

    /// One event as the activity API lists it, with the webhook's form of it as `payload`.
    struct Event: Encodable {
        var eventName: String
        var processed: String
        var reason: String
        var mxServer: String
        var attemptNum: Int
        var payload: [String: JSONValue]
        enum CodingKeys: String, CodingKey {
            case processed, reason, payload
            case eventName = "event_name"
            case mxServer = "mx_server"
            case attemptNum = "attempt_num"
        }
    }

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("messages") { request, context in try await list(request, context) }
        router.get("messages/:msg_id") { _, context in try await show(context) }
    }

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.messagesRead)
        let parameters = request.uri.queryParameters
        var limit = 10
        if let text = parameters["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw APIFailure(.badRequest, "limit must be an integer from 1 to \(Self.maximumLimit)", field: "limit")
            }
            limit = value
        }
        var filter = ActivityFilter()
        if let text = parameters["query"] {
            let query: ActivityQuery
            do {
                query = try ActivityQuery(parsing: String(text))
            } catch {
                throw APIFailure(.badRequest, error.message, field: "query")
            }
            filter.to = query.toEmail
            filter.from = query.fromEmail
            filter.subject = query.subject
            filter.sgMessageID = query.messageID
            filter.states = query.status.map(Self.states(status:))
        }
        let found = try await activity.activity(account: key.user, filter: filter, limit: limit)
        return APIJSON.response(Listing(messages: found.map(Summary.init)))
    }

    func show(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.messagesRead)
        guard let id = context.parameters.get("msg_id"), id.utf8.count <= 200,
            let (recipient, events) = try await activity.activity(account: key.user, sgMessageID: id)
        else { throw APIFailure.notFound }
        let listed: [Event] = events.compactMap { event in
            let facts = Self.facts(event, of: recipient)
            guard let payload = EventPayload.object(facts), case .string(let name)? = payload["event"] else { return nil }
            return Event(
                eventName: name, processed: MessageDate.rfc3339(unixSeconds: event.at), reason: event.reply ?? "", mxServer: event.mxHost ?? "",
                attemptNum: event.attempt ?? 0, payload: payload)
        }
        return APIJSON.response(
            Detail(
                fromEmail: recipient.from, msgID: recipient.sgMessageID, subject: recipient.subject ?? "", toEmail: recipient.to,
                status: Self.status(recipient.state), categories: recipient.tags.categories, uniqueArgs: recipient.tags.customArgs,
                asmGroupID: recipient.tags.asmGroupID, originatingIP: recipient.clientAddress ?? "", opensCount: recipient.opens,
                clicksCount: recipient.clicks, links: Self.links(listed.map(\.payload)), events: listed))
    }

    /// What SendGrid's activity calls a recipient's state.
    static func status(_ state: RecipientState) -> String {
        switch state {
        case .delivered: "delivered"
        case .bounced, .dropped: "not_delivered"
        case .queued, .delivering, .deferred: "processed"
        }
    }

    static func states(status: String) -> Set<RecipientState> {
        Set(RecipientState.allCases.filter { Self.status($0) == status })
    }

    /// An event row with what its message adds, in the terms of SendGrid's event shape.
    static func facts(_ event: QueueEvent, of recipient: RecipientActivity) -> EventFacts { EventFacts(event, of: recipient) }
}
