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
struct WebhookEndpoint {
    let store: any WebhookRepository
    let transport: any WebhookTransport
    let resolver: any DNSResolver
    let allowPrivate: Bool
    let clock: @Sendable () -> Int

    /// Webhooks per account (SendGrid's limit is of this size too).
    static let maximumWebhooks = 5

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
            try c.encode(webhook.signingKey.flatMap(WebhookSignature.publicKey(of:)) ?? "", forKey: .publicKey)
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

    func create(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let body = try BodyReader.decode(Settings.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        guard let url = body.url else { throw APIFailure(.badRequest, "url is required", field: "url") }
        guard try await store.webhooks(account: key.user).count < Self.maximumWebhooks else {
            throw APIFailure(.badRequest, "an account has at most \(Self.maximumWebhooks) event webhooks")
        }
        var webhook = EventWebhook(
            id: Self.makeID(), account: key.user, url: url, enabled: true, events: [], createdAt: clock(), updatedAt: clock(),
            cursor: try await store.lastEventID())
        try await apply(body, to: &webhook)
        try await store.addWebhook(webhook)
        return APIJSON.response(View(webhook: webhook), status: .created)
    }

    func all(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let webhooks = try await store.webhooks(account: key.user)
        return APIJSON.response(All(maxAllowed: Self.maximumWebhooks, webhooks: webhooks.map(View.init)))
    }

    /// The single-webhook form: the account's first webhook, or a disabled empty one.
    func first(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let webhook =
            try await store.webhooks(account: key.user).first
            ?? EventWebhook(id: "", account: key.user, url: "", enabled: false, events: [], createdAt: clock(), updatedAt: clock(), cursor: 0)
        return APIJSON.response(View(webhook: webhook))
    }

    func patchFirst(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        guard let existing = try await store.webhooks(account: key.user).first else { return try await create(request, context) }
        return try await update(existing, request)
    }

    func patch(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await update(try await owned(context), request)
    }

    func update(_ existing: EventWebhook, _ request: Request) async throws -> Response {
        let body = try BodyReader.decode(Settings.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        var webhook = existing
        try await apply(body, to: &webhook)
        webhook.updatedAt = clock()
        guard try await store.updateWebhookSettings(webhook) else { throw APIFailure.notFound }
        return APIJSON.response(View(webhook: webhook))
    }

    func remove(_ context: APIRequestContext) async throws -> Response {
        let webhook = try await owned(context)
        guard try await store.removeWebhook(id: webhook.id) else { throw APIFailure.notFound }
        return Response(status: .noContent)
    }

    func signed(_ context: APIRequestContext) async throws -> Response {
        let webhook = try await owned(context)
        return APIJSON.response(Signed(id: webhook.id, publicKey: webhook.signingKey.flatMap(WebhookSignature.publicKey(of:)) ?? ""))
    }

    /// Turns signing on (a new key, so a key that leaked can be replaced) or off.
    func setSigned(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        var webhook = try await owned(context)
        let body = try BodyReader.decode(Signed.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        guard let enabled = body.enabled else { throw APIFailure(.badRequest, "enabled is required", field: "enabled") }
        webhook.signingKey = enabled ? WebhookSignature.makeKey() : nil
        webhook.updatedAt = clock()
        guard try await store.updateWebhookSettings(webhook) else { throw APIFailure.notFound }
        return APIJSON.response(Signed(id: webhook.id, publicKey: webhook.signingKey.flatMap(WebhookSignature.publicKey(of:)) ?? ""))
    }

    /// Sends one sample event to a webhook's URL (or to `url`), signed when the webhook is;
    /// 204 when the receiver answered 2xx.
    func test(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.webhooks)
        let body = try BodyReader.decode(TestBody.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        var webhook: EventWebhook? = nil
        if let id = body.id {
            guard let found = try await store.webhook(id: id), found.account == key.user else { throw APIFailure.notFound }
            webhook = found
        }
        guard let url = body.url ?? webhook?.url else { throw APIFailure(.badRequest, "give the id of a webhook or a url", field: "url") }
        if case .failure(let refusal) = await WebhookURL.check(url, resolver: resolver, allowPrivate: allowPrivate) {
            throw APIFailure(.badRequest, refusal.message, field: "url")
        }
        let now = clock()
        let sample = EventFacts(
            id: 0, at: now, kind: "queued", email: "example@test.com", sgMessageID: "test-event.0", smtpID: "<test-event@\(key.user)>",
            categories: ["test"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = Array(try encoder.encode([EventPayload.object(sample)!]))
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("User-Agent", "Tern-Event-Webhook")]
        if let signingKey = webhook?.signingKey, let signature = WebhookSignature.sign(body: payload, timestamp: String(now), key: signingKey) {
            headers.append((WebhookSignature.signatureHeader, signature))
            headers.append((WebhookSignature.timestampHeader, String(now)))
        }
        switch await transport.post(url: url, body: payload, headers: headers) {
        case .answered(let status) where (200..<300).contains(status): return Response(status: .noContent)
        case .answered(let status): throw APIFailure(.badRequest, "the receiver answered HTTP \(status)", field: "url")
        case .failed(let reason): throw APIFailure(.badRequest, "the test event could not be delivered: \(reason)", field: "url")
        }
    }

    /// Applies a settings body; the URL is checked (syntax, and where it resolves).
    func apply(_ body: Settings, to webhook: inout EventWebhook) async throws(APIFailure) {
        if let url = body.url {
            if case .failure(let refusal) = await WebhookURL.check(url, resolver: resolver, allowPrivate: allowPrivate) {
                throw APIFailure(.badRequest, refusal.message, field: "url")
            }
            webhook.url = url
        }
        if let enabled = body.enabled { webhook.enabled = enabled }
        if let name = body.friendlyName {
            guard name.utf8.count <= 100 else { throw APIFailure(.badRequest, "friendly_name is at most 100 bytes", field: "friendly_name") }
            webhook.friendlyName = name
        }
        for (event, flag) in body.flags {
            if flag == true { webhook.events.insert(event) }
            if flag == false { webhook.events.remove(event) }
        }
    }

    /// The webhook named in the path, when it is the caller's; 404 otherwise.
    func owned(_ context: APIRequestContext) async throws -> EventWebhook {
        let key = try context.requireScope(.webhooks)
        guard let id = context.parameters.get("id"), id.utf8.count <= 64, let webhook = try await store.webhook(id: id), webhook.account == key.user
        else { throw APIFailure.notFound }
        return webhook
    }

    /// A UUID, as SendGrid's webhook ids are.
    static func makeID() -> String { UUID().uuidString.lowercased() }
}
