import DNSClient
import Foundation
import MailCore
import MailStore
import SendGridProtocol

/// An account's event webhooks, for every front end (`/v3/user/webhooks/event/...` and the
/// dashboard): the limits on them, the URL check (syntax, and where it resolves), signing keys,
/// the test event, and each webhook's log of posts.
public struct EventWebhooks: Sendable {
    let store: any WebhookRepository
    let transport: any WebhookTransport
    let resolver: any DNSResolver
    let allowPrivate: Bool
    let clock: @Sendable () -> Int

    /// Webhooks per account (SendGrid's limit is of this size too).
    public static let maximumWebhooks = 5
    public static let maximumNameBytes = 100

    public init(
        store: any WebhookRepository, transport: any WebhookTransport, resolver: any DNSResolver, allowPrivate: Bool,
        clock: @escaping @Sendable () -> Int
    ) {
        self.store = store
        self.transport = transport
        self.resolver = resolver
        self.allowPrivate = allowPrivate
        self.clock = clock
    }

    /// What a settings change gives; nil leaves a setting as it is.
    public struct Change: Sendable {
        public var url: String?
        public var enabled: Bool?
        public var friendlyName: String?
        /// SendGrid event name → on or off; names not given are left as they are.
        public var events: [String: Bool]

        public init(url: String? = nil, enabled: Bool? = nil, friendlyName: String? = nil, events: [String: Bool] = [:]) {
            self.url = url
            self.enabled = enabled
            self.friendlyName = friendlyName
            self.events = events
        }
    }

    /// Why a change or a test was refused; each front end words it (`field` names the input).
    public enum Refusal: Error, Hashable, Sendable {
        case notFound
        case urlRequired
        case tooMany
        case badURL(WebhookURL.Refusal)
        case nameTooLong
        /// The test event reached the receiver, which did not answer 2xx.
        case receiverAnswered(Int)
        /// The test event did not reach the receiver.
        case unreachable(String)
        case store(StoreError)

        public var message: String {
            switch self {
            case .notFound: "no such webhook"
            case .urlRequired: "url is required"
            case .tooMany: "an account has at most \(EventWebhooks.maximumWebhooks) event webhooks"
            case .badURL(let refusal): refusal.message
            case .nameTooLong: "friendly_name is at most \(EventWebhooks.maximumNameBytes) bytes"
            case .receiverAnswered(let status): "the receiver answered HTTP \(status)"
            case .unreachable(let reason): "the test event could not be delivered: \(reason)"
            case .store: "the store failed; try again"
            }
        }

        public var field: String? {
            switch self {
            case .urlRequired, .badURL, .receiverAnswered, .unreachable: "url"
            case .nameTooLong: "friendly_name"
            case .notFound, .tooMany, .store: nil
            }
        }
    }

    public func webhooks(account: String) async throws(Refusal) -> [EventWebhook] {
        do { return try await store.webhooks(account: account) } catch { throw .store(error) }
    }

    /// The webhook when it is `account`'s; `notFound` otherwise, so ids of other accounts are
    /// indistinguishable from ids that do not exist.
    public func webhook(id: String, account: String) async throws(Refusal) -> EventWebhook {
        guard id.utf8.count <= 64 else { throw .notFound }
        let found: EventWebhook?
        do { found = try await store.webhook(id: id) } catch { throw .store(error) }
        guard let found, found.account == account else { throw .notFound }
        return found
    }

    /// A new webhook, enabled, starting after the newest event (it is not sent the past).
    public func create(account: String, _ change: Change) async throws(Refusal) -> EventWebhook {
        guard let url = change.url, !url.isEmpty else { throw .urlRequired }
        guard try await webhooks(account: account).count < Self.maximumWebhooks else { throw .tooMany }
        let now = clock()
        let cursor: Int
        do { cursor = try await store.lastEventID() } catch { throw .store(error) }
        var webhook = EventWebhook(id: UUID().uuidString.lowercased(), account: account, url: url, enabled: true, events: [], createdAt: now, updatedAt: now, cursor: cursor)
        try await apply(change, to: &webhook)
        do { try await store.addWebhook(webhook) } catch { throw .store(error) }
        return webhook
    }

    public func update(_ existing: EventWebhook, _ change: Change) async throws(Refusal) -> EventWebhook {
        var webhook = existing
        try await apply(change, to: &webhook)
        webhook.updatedAt = clock()
        try await save(webhook)
        return webhook
    }

    public func remove(id: String, account: String) async throws(Refusal) {
        let webhook = try await self.webhook(id: id, account: account)
        let removed: Bool
        do { removed = try await store.removeWebhook(id: webhook.id) } catch { throw .store(error) }
        guard removed else { throw .notFound }
    }

    /// Turns signing on (always a new key, so a key that leaked is replaced) or off.
    public func setSigned(_ existing: EventWebhook, enabled: Bool) async throws(Refusal) -> EventWebhook {
        var webhook = existing
        webhook.signingKey = enabled ? WebhookSignature.makeKey() : nil
        webhook.updatedAt = clock()
        try await save(webhook)
        return webhook
    }

    /// The public key receivers verify with, or "" when unsigned.
    public static func publicKey(of webhook: EventWebhook) -> String {
        webhook.signingKey.flatMap(WebhookSignature.publicKey(of:)) ?? ""
    }

    /// Posts one sample event to `url` (or the webhook's URL), signed when the webhook is, and
    /// adds the post to the webhook's log; succeeds when the receiver answered 2xx.
    public func test(account: String, webhook: EventWebhook?, url: String?) async throws(Refusal) -> WebhookAttempt {
        guard let url = url ?? webhook?.url, !url.isEmpty else { throw .urlRequired }
        if case .failure(let refusal) = await WebhookURL.check(url, resolver: resolver, allowPrivate: allowPrivate) { throw .badURL(refusal) }
        let now = clock()
        let sample = EventFacts(
            id: 0, at: now, kind: "queued", email: "example@test.com", sgMessageID: "test-event.0", smtpID: "<test-event@\(account)>",
            categories: ["test"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = (try? encoder.encode([EventPayload.object(sample)!])).map(Array.init) ?? Array("[]".utf8)
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("User-Agent", "Tern-Event-Webhook")]
        if let key = webhook?.signingKey, let signature = WebhookSignature.sign(body: payload, timestamp: String(now), key: key) {
            headers.append((WebhookSignature.signatureHeader, signature))
            headers.append((WebhookSignature.timestampHeader, String(now)))
        }
        let started = ContinuousClock.now
        let result = await transport.post(url: url, body: payload, headers: headers)
        let attempt = WebhookAttempt(
            webhookID: webhook?.id ?? "", at: now, outcome: .test, events: 1, status: result.status, error: result.failure, retry: 0,
            milliseconds: Int((ContinuousClock.now - started) / .milliseconds(1)))
        if webhook != nil { try? await store.recordWebhookAttempt(attempt) }
        switch result {
        case .answered(let status) where (200..<300).contains(status): return attempt
        case .answered(let status): throw .receiverAnswered(status)
        case .failed(let reason): throw .unreachable(reason)
        }
    }

    /// The webhook's recent posts, newest first.
    public func attempts(of webhook: EventWebhook, limit: Int = WebhookAttempt.kept) async throws(Refusal) -> [WebhookAttempt] {
        do { return try await store.webhookAttempts(webhookID: webhook.id, limit: limit) } catch { throw .store(error) }
    }

    func apply(_ change: Change, to webhook: inout EventWebhook) async throws(Refusal) {
        if let url = change.url {
            if case .failure(let refusal) = await WebhookURL.check(url, resolver: resolver, allowPrivate: allowPrivate) { throw .badURL(refusal) }
            webhook.url = url
        }
        if let enabled = change.enabled { webhook.enabled = enabled }
        if let name = change.friendlyName {
            guard name.utf8.count <= Self.maximumNameBytes else { throw .nameTooLong }
            webhook.friendlyName = name
        }
        for (event, on) in change.events where EventWebhook.eventNames.contains(event) {
            if on { webhook.events.insert(event) } else { webhook.events.remove(event) }
        }
    }

    func save(_ webhook: EventWebhook) async throws(Refusal) {
        let saved: Bool
        do { saved = try await store.updateWebhookSettings(webhook) } catch { throw .store(error) }
        guard saved else { throw .notFound }
    }
}
