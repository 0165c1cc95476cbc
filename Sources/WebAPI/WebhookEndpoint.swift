import DNSClient
import Foundation
import Hummingbird
import MailCore
import MailService
import MailStore
import SendGridProtocol

/// SendGrid's Event Webhook settings: several webhooks per account
/// (`/v3/user/webhooks/event/settings[/{id}|/all]`), the single-webhook form older clients use
/// (`GET`/`PATCH /v3/user/webhooks/event/settings`, the account's first webhook), signing
/// (`/settings/signed/{id}`) and a test event (`/v3/user/webhooks/event/test`).
/// The rules live in `EventWebhooks` (MailService), which the dashboard uses too.
struct WebhookEndpoint {
    let webhooks: EventWebhooks

    /// The settings body: every field optional (PATCH changes only those given).
    struct Settings: Decodable {
        var enabled: Bool?
        var url: String?
        var friendlyName: String?
        var processed, delivered, deferred, bounce, dropped, open, click, unsubscribe, groupUnsubscribe, groupResubscribe, spamReport: Bool?
        enum CodingKeys: String, CodingKey {
            case enabled, url, processed, delivered, deferred, bounce, dropped, open, click, unsubscribe
            case friendlyName = "friendly_name"
            case groupUnsubscribe = "group_unsubscribe"
            case groupResubscribe = "group_resubscribe"
            case spamReport = "spam_report"
        }

        /// SendGrid's setting name → event name.
        var flags: [(String, Bool?)] {
            [
                ("processed", processed), ("delivered", delivered), ("deferred", deferred), ("bounce", bounce), ("dropped", dropped),
                ("open", open), ("click", click), ("unsubscribe", unsubscribe), ("group_unsubscribe", groupUnsubscribe),
                ("group_resubscribe", groupResubscribe), ("spamreport", spamReport),
            ]
        }

        var change: EventWebhooks.Change {
            var events: [String: Bool] = [:]
            for case (let name, let on?) in flags { events[name] = on }
            return EventWebhooks.Change(url: url, enabled: enabled, friendlyName: friendlyName, events: events)
        }
    }

    /// A webhook as SendGrid shows it.
    struct View: Encodable {
        var webhook: EventWebhook
        enum CodingKeys: String, CodingKey {
            case id, enabled, url, processed, delivered, deferred, bounce, dropped, open, click, unsubscribe
            case friendlyName = "friendly_name"
            case groupUnsubscribe = "group_unsubscribe"
            case groupResubscribe = "group_resubscribe"
            case spamReport = "spam_report"
            case createdDate = "created_date"
            case updatedDate = "updated_date"
            case publicKey = "public_key"
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(webhook.id, forKey: .id)
            try c.encode(webhook.enabled, forKey: .enabled)
            try c.encode(webhook.url, forKey: .url)
            try c.encode(webhook.friendlyName, forKey: .friendlyName)
            let on = webhook.events
            try c.encode(on.contains("processed"), forKey: .processed)
            try c.encode(on.contains("delivered"), forKey: .delivered)
            try c.encode(on.contains("deferred"), forKey: .deferred)
            try c.encode(on.contains("bounce"), forKey: .bounce)
            try c.encode(on.contains("dropped"), forKey: .dropped)
            try c.encode(on.contains("open"), forKey: .open)
            try c.encode(on.contains("click"), forKey: .click)
            try c.encode(on.contains("unsubscribe"), forKey: .unsubscribe)
            try c.encode(on.contains("group_unsubscribe"), forKey: .groupUnsubscribe)
            try c.encode(on.contains("group_resubscribe"), forKey: .groupResubscribe)
            try c.encode(on.contains("spamreport"), forKey: .spamReport)
            try c.encode(MessageDate.rfc3339(unixSeconds: webhook.createdAt), forKey: .createdDate)
            try c.encode(MessageDate.rfc3339(unixSeconds: webhook.updatedAt), forKey: .updatedDate)
            try c.encode(EventWebhooks.publicKey(of: webhook), forKey: .publicKey)
        }
    }

    struct All: Encodable {
        var maxAllowed: Int
        var webhooks: [View]
        enum CodingKeys: String, CodingKey {
            case webhooks
            case maxAllowed = "max_allowed"
        }
    }

    struct Signed: Codable {
        var id: String?
        var publicKey: String?
        var enabled: Bool?
        enum CodingKeys: String, CodingKey {
            case id, enabled
            case publicKey = "public_key"
        }
    }

    struct TestBody: Decodable {
        var id: String?
        var url: String?
    }

    func register(on router: RouterGroup<APIRequestContext>) {
        router.post("user/webhooks/event/settings") { request, context in try await create(request, context) }
        router.get("user/webhooks/event/settings/all") { _, context in try await all(context) }
        router.get("user/webhooks/event/settings") { _, context in try await first(context) }
        router.patch("user/webhooks/event/settings") { request, context in try await patchFirst(request, context) }
        router.get("user/webhooks/event/settings/:id") { _, context in APIJSON.response(View(webhook: try await owned(context))) }
        router.patch("user/webhooks/event/settings/:id") { request, context in try await patch(request, context) }
        router.delete("user/webhooks/event/settings/:id") { _, context in try await remove(context) }
        router.get("user/webhooks/event/settings/signed/:id") { _, context in try await signed(context) }
        router.patch("user/webhooks/event/settings/signed/:id") { request, context in try await setSigned(request, context) }
        router.post("user/webhooks/event/test") { request, context in try await test(request, context) }
    }

    /// Runs a core call, answering its refusals as SendGrid does (400 with the field, or 404).
    func answering<T>(_ call: () async throws(EventWebhooks.Refusal) -> T) async throws(APIFailure) -> T {
        do {
            return try await call()
        } catch .notFound {
            throw APIFailure.notFound
        } catch .store {
            throw APIFailure(.internalServerError, "internal error")
        } catch {
            throw APIFailure(.badRequest, error.message, field: error.field)
        }
    }

    func create(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let body = try BodyReader.decode(Settings.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        let webhook = try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.create(account: key.user, body.change) }
        return APIJSON.response(View(webhook: webhook), status: .created)
    }

    func all(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let list = try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.webhooks(account: key.user) }
        return APIJSON.response(All(maxAllowed: EventWebhooks.maximumWebhooks, webhooks: list.map(View.init)))
    }

    /// The single-webhook form: the account's first webhook, or a disabled empty one.
    func first(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let now = MessageDate.nowUnixSeconds()
        let webhook =
            try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.webhooks(account: key.user) }.first
            ?? EventWebhook(id: "", account: key.user, url: "", enabled: false, events: [], createdAt: now, updatedAt: now, cursor: 0)
        return APIJSON.response(View(webhook: webhook))
    }

    func patchFirst(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        guard let existing = try await answering({ () async throws(EventWebhooks.Refusal) in try await webhooks.webhooks(account: key.user) }).first
        else { return try await create(request, context) }
        return try await update(existing, request)
    }

    func patch(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await update(try await owned(context), request)
    }

    func update(_ existing: EventWebhook, _ request: Request) async throws -> Response {
        let body = try BodyReader.decode(Settings.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        let webhook = try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.update(existing, body.change) }
        return APIJSON.response(View(webhook: webhook))
    }

    func remove(_ context: APIRequestContext) async throws -> Response {
        let webhook = try await owned(context)
        try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.remove(id: webhook.id, account: webhook.account) }
        return Response(status: .noContent)
    }

    func signed(_ context: APIRequestContext) async throws -> Response {
        let webhook = try await owned(context)
        return APIJSON.response(Signed(id: webhook.id, publicKey: EventWebhooks.publicKey(of: webhook)))
    }

    /// Turns signing on (a new key, so a key that leaked can be replaced) or off.
    func setSigned(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let existing = try await owned(context)
        let body = try BodyReader.decode(Signed.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        guard let enabled = body.enabled else { throw APIFailure(.badRequest, "enabled is required", field: "enabled") }
        let webhook = try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.setSigned(existing, enabled: enabled) }
        return APIJSON.response(Signed(id: webhook.id, publicKey: EventWebhooks.publicKey(of: webhook)))
    }

    /// Sends one sample event to a webhook's URL (or to `url`), signed when the webhook is;
    /// 204 when the receiver answered 2xx.
    func test(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let body = try BodyReader.decode(TestBody.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        let webhook: EventWebhook? =
            if let id = body.id { try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.webhook(id: id, account: key.user) } }
            else { nil }
        if body.url == nil && webhook == nil { throw APIFailure(.badRequest, "give the id of a webhook or a url", field: "url") }
        _ = try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.test(account: key.user, webhook: webhook, url: body.url) }
        return Response(status: .noContent)
    }

    /// The webhook named in the path, when it is the caller's; 404 otherwise.
    func owned(_ context: APIRequestContext) async throws -> EventWebhook {
        let key = try context.requireScope(.webhooks)
        let id = context.parameters.get("id") ?? ""
        return try await answering { () async throws(EventWebhooks.Refusal) in try await webhooks.webhook(id: id, account: key.user) }
    }
}
