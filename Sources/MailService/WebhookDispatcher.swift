import Crypto
import Foundation
import MailCore
import MailStore
import SendGridProtocol

/// How a batch of events reaches a webhook's URL. `tern serve` uses an HTTP client that dials
/// only addresses Tern's own resolver found (and only public ones unless allowed).
public protocol WebhookTransport: Sendable {
    func post(url: String, body: [UInt8], headers: [(name: String, value: String)]) async -> WebhookPostResult
}

public enum WebhookPostResult: Hashable, Sendable {
    /// The receiver answered with this status.
    case answered(status: Int)
    /// No answer: refused, unreachable, timed out, or a destination Tern may not dial.
    case failed(String)

    public var status: Int? {
        if case .answered(let status) = self { return status }
        return nil
    }

    public var failure: String? {
        if case .failed(let reason) = self { return reason }
        return nil
    }

    public var isSuccess: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// SendGrid's signed Event Webhook: ECDSA P-256 with SHA-256 over the timestamp followed by the
/// raw body, base64 of the DER signature in `X-Twilio-Email-Event-Webhook-Signature`, the
/// timestamp in `X-Twilio-Email-Event-Webhook-Timestamp`; receivers verify with the public key
/// (base64 DER SubjectPublicKeyInfo), as SendGrid's libraries do.
public enum WebhookSignature {
    public static let signatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
    public static let timestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"

    /// A new private key in its stored form.
    public static func makeKey() -> String { P256.Signing.PrivateKey().rawRepresentation.base64EncodedString() }

    /// The public key receivers are given, or nil for a key that does not read.
    public static func publicKey(of stored: String) -> String? {
        guard let key = privateKey(stored) else { return nil }
        return key.publicKey.derRepresentation.base64EncodedString()
    }

    /// The signature of `timestamp` + `body`, or nil for a key that does not read.
    public static func sign(body: [UInt8], timestamp: String, key stored: String) -> String? {
        guard let key = privateKey(stored), let signature = try? key.signature(for: signedBytes(body: body, timestamp: timestamp)) else {
            return nil
        }
        return signature.derRepresentation.base64EncodedString()
    }

    /// What is signed: the timestamp's text followed by the raw body, as SendGrid's verifiers
    /// rebuild it (`timestamp + payload`).
    public static func signedBytes(body: [UInt8], timestamp: String) -> [UInt8] { Array(timestamp.utf8) + body }

    static func privateKey(_ stored: String) -> P256.Signing.PrivateKey? {
        Data(base64Encoded: stored).flatMap { try? P256.Signing.PrivateKey(rawRepresentation: $0) }
    }
}

/// Delivers every account's events to its webhooks: JSON arrays in SendGrid's event shape,
/// batched (a batch goes once its oldest event has waited `batchDelay`, or at 768 KB), signed
/// when the webhook is, retried with doubling delays for 24 hours. The events table is the
/// outbox: each webhook keeps a cursor that moves only after a 2xx, so every event arrives at
/// least once, across restarts too, and `sg_event_id` lets receivers drop repeats.
public final class WebhookDispatcher: Sendable {
    public struct Settings: Sendable {
        /// Seconds the oldest event of a batch waits for more to join it.
        public var batchDelay: Int
        /// First retry delay in seconds; it doubles per failure up to `maximumRetryDelay`.
        public var retryDelay: Int
        public var maximumRetryDelay: Int
        /// Events older than this (seconds) whose delivery keeps failing are given up.
        public var retention: Int
        public var maximumBatchBytes: Int
        public var maximumBatchEvents: Int
        /// Seconds between passes over the webhooks.
        public var pollInterval: Double

        public init(
            batchDelay: Int = 5, retryDelay: Int = 5, maximumRetryDelay: Int = 600, retention: Int = 86400, maximumBatchBytes: Int = 768 * 1024,
            maximumBatchEvents: Int = 1000, pollInterval: Double = 1
        ) {
            self.batchDelay = batchDelay
            self.retryDelay = retryDelay
            self.maximumRetryDelay = maximumRetryDelay
            self.retention = retention
            self.maximumBatchBytes = maximumBatchBytes
            self.maximumBatchEvents = maximumBatchEvents
            self.pollInterval = pollInterval
        }
    }

    let store: any WebhookRepository
    let transport: any WebhookTransport
    let settings: Settings
    let clock: @Sendable () -> Int
    let log: @Sendable (String) -> Void

    public init(
        store: any WebhookRepository, transport: any WebhookTransport, settings: Settings = Settings(),
        clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.transport = transport
        self.settings = settings
        self.clock = clock
        self.log = log
    }

    /// Passes over the due webhooks until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await runOnce()
            try? await Task.sleep(for: .seconds(settings.pollInterval))
        }
    }

    /// One pass: every due webhook gets at most one batch.
    public func runOnce() async {
        guard let due = try? await store.dueWebhooks(now: clock()) else { return }
        for webhook in due where !Task.isCancelled {
            await deliver(webhook)
        }
    }

    /// A batch: the events it carries, the cursor after it, and the time of its oldest event.
    struct Batch {
        var payloads: [[UInt8]] = []
        var cursor: Int
        var oldest: Int? = nil
        var full = false
        var bytes = 2

        var body: [UInt8] {
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (index, payload) in payloads.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += payload
            }
            out.append(UInt8(ascii: "]"))
            return out
        }
    }

    /// The next batch for `webhook` from `events` (its events after the cursor, oldest first).
    func batch(for webhook: EventWebhook, from events: [AccountEvent]) -> Batch {
        var batch = Batch(cursor: webhook.cursor)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for item in events {
            let facts = EventFacts(item.event, of: item.recipient)
            guard let name = EventPayload.eventName(facts.kind), webhook.events.contains(name), let object = EventPayload.object(facts),
                let encoded = try? encoder.encode(object)
            else {
                // Not wanted by this webhook: the cursor passes it.
                batch.cursor = item.event.id
                continue
            }
            if !batch.payloads.isEmpty
                && (batch.bytes + encoded.count + 1 > settings.maximumBatchBytes || batch.payloads.count >= settings.maximumBatchEvents)
            {
                batch.full = true
                break
            }
            batch.payloads.append(Array(encoded))
            batch.bytes += encoded.count + 1
            batch.oldest = batch.oldest ?? facts.at
            batch.cursor = item.event.id
        }
        if events.count >= settings.maximumBatchEvents { batch.full = true }
        return batch
    }

    func deliver(_ webhook: EventWebhook) async {
        let now = clock()
        guard let events = try? await store.events(account: webhook.account, after: webhook.cursor, limit: settings.maximumBatchEvents),
            !events.isEmpty
        else {
            try? await store.releaseWebhook(id: webhook.id, nextAttemptAt: webhook.nextAttemptAt)
            return
        }
        let batch = batch(for: webhook, from: events)
        guard let oldest = batch.oldest else {
            // Nothing this webhook wants: move past it.
            try? await store.recordWebhookDelivery(
                id: webhook.id, cursor: batch.cursor, failures: webhook.failures, nextAttemptAt: webhook.nextAttemptAt, attempt: nil)
            return
        }
        // A batch waits for company, unless it is full or already late (a retry).
        if !batch.full, webhook.failures == 0, now - oldest < settings.batchDelay {
            try? await store.releaseWebhook(id: webhook.id, nextAttemptAt: webhook.nextAttemptAt)
            return
        }
        let body = batch.body
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("User-Agent", "Tern-Event-Webhook")]
        if let key = webhook.signingKey {
            let timestamp = String(now)
            if let signature = WebhookSignature.sign(body: body, timestamp: timestamp, key: key) {
                headers.append((WebhookSignature.signatureHeader, signature))
                headers.append((WebhookSignature.timestampHeader, timestamp))
            }
        }
        let started = ContinuousClock.now
        let result = await transport.post(url: webhook.url, body: body, headers: headers)
        let elapsed = ContinuousClock.now - started
        func attempt(_ outcome: WebhookAttempt.Outcome) -> WebhookAttempt {
            WebhookAttempt(
                webhookID: webhook.id, at: now, outcome: outcome, events: batch.payloads.count, status: result.status, error: result.failure,
                retry: webhook.failures, milliseconds: Int(elapsed / .milliseconds(1)))
        }
        if case .answered(let status) = result, (200..<300).contains(status) {
            try? await store.recordWebhookDelivery(id: webhook.id, cursor: batch.cursor, failures: 0, nextAttemptAt: 0, attempt: attempt(.delivered))
            ServiceMetrics.webhookDelivery(result: "delivered", events: batch.payloads.count)
            return
        }
        let reason =
            switch result {
            case .answered(let status): "HTTP \(status)"
            case .failed(let text): text
            }
        if now - oldest >= settings.retention {
            log("webhook \(webhook.id) of \(webhook.account): gave up \(batch.payloads.count) events older than \(settings.retention) s (\(reason))")
            try? await store.recordWebhookDelivery(id: webhook.id, cursor: batch.cursor, failures: 0, nextAttemptAt: 0, attempt: attempt(.gaveUp))
            ServiceMetrics.webhookDelivery(result: "given_up", events: batch.payloads.count)
            return
        }
        ServiceMetrics.webhookDelivery(result: "failed", events: batch.payloads.count)
        let failures = webhook.failures + 1
        let delay = min(settings.maximumRetryDelay, settings.retryDelay << min(failures - 1, 20))
        log("webhook \(webhook.id) of \(webhook.account): delivery failed (\(reason)); retry \(failures) in \(delay) s")
        try? await store.recordWebhookDelivery(
            id: webhook.id, cursor: webhook.cursor, failures: failures, nextAttemptAt: now + delay, attempt: attempt(.failed))
    }
}
