import Foundation
import HTTPTypes
import Hummingbird
import MailCore
import MailService
import MailStore
import WebAPI

/// The webhooks pages: an account's event webhooks with their settings, signing, a test button
/// and the log of recent posts (status codes, errors, retries). Everything goes through
/// `EventWebhooks`, as `/v3/user/webhooks/event/...` does.
extension Dashboard {
    func registerWebhookPages(on router: Router<APIRequestContext>) {
        let dashboard = self
        router.get("/dashboard/webhooks") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.webhooksPage(session) } }
        router.post("/dashboard/webhooks") { request, context in await dashboard.signedIn(request, context, form: true) { session, form in
            await dashboard.createWebhook(form ?? FormBody([]), session) } }
        router.get("/dashboard/webhooks/:id") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.webhookPage(context.parameters.get("id") ?? "", session) } }
        for action in ["settings", "signing", "test", "remove"] {
            router.post("/dashboard/webhooks/:id/\(action)") { request, context in
                await dashboard.signedIn(request, context, form: true) { session, form in
                    await dashboard.changeWebhook(context.parameters.get("id") ?? "", action, form ?? FormBody([]), session)
                }
            }
        }
    }

    /// The event names with the labels the pages show, in SendGrid's order.
    static let webhookEventLabels: [(name: String, label: String)] = [
        ("processed", "Processed"), ("delivered", "Delivered"), ("deferred", "Deferred"), ("bounce", "Bounced"), ("dropped", "Dropped"),
        ("open", "Opened"), ("click", "Clicked"), ("unsubscribe", "Unsubscribed"), ("group_unsubscribe", "Group unsubscribe"),
        ("group_resubscribe", "Group resubscribe"), ("spamreport", "Spam report"),
    ]

    func webhooksPage(_ session: WebSession, notice: String? = nil, status: HTTPResponse.Status = .ok) async -> Response {
        guard let webhooks else { return problem(.notFound, "Not found", "There are no webhooks here.", session: session) }
        let list = (try? await webhooks.webhooks(account: session.user)) ?? []
        var values: [String: Any] = [
            "csrf": session.csrf, "maximum": EventWebhooks.maximumWebhooks, "canAdd": list.count < EventWebhooks.maximumWebhooks,
            "events": Self.webhookEventLabels.map { ["name": $0.name, "label": $0.label, "on": true] as [String: Any] },
            "webhooks": list.map { webhook -> [String: Any] in
                [
                    "id": webhook.id, "url": webhook.url, "name": webhook.friendlyName ?? "", "enabled": webhook.enabled,
                    "signed": webhook.signingKey != nil, "events": Self.eventSummary(webhook), "health": Self.health(webhook),
                ]
            },
        ]
        if let notice { values["notice"] = notice }
        return page("webhooks", values, title: "Webhooks", session: session, current: "webhooks", status: status)
    }

    func webhookPage(_ id: String, _ session: WebSession, notice: String? = nil, status: HTTPResponse.Status = .ok) async -> Response {
        guard let webhooks, let webhook = try? await webhooks.webhook(id: id, account: session.user) else {
            return problem(.notFound, "No such webhook", "There is no webhook with this id in your account.", session: session)
        }
        let attempts = (try? await webhooks.attempts(of: webhook, limit: 50)) ?? []
        var values: [String: Any] = [
            "csrf": session.csrf, "id": webhook.id, "url": webhook.url, "name": webhook.friendlyName ?? "", "enabled": webhook.enabled,
            "health": Self.health(webhook), "publicKey": webhook.signingKey == nil ? false : EventWebhooks.publicKey(of: webhook),
            "events": Self.webhookEventLabels.map { ["name": $0.name, "label": $0.label, "on": webhook.events.contains($0.name)] as [String: Any] },
            "attempts": attempts.map { attempt -> [String: Any] in
                [
                    "time": Self.time(attempt.at), "kind": attempt.outcome == .test ? "test" : "events", "events": attempt.events,
                    "status": attempt.status.map(String.init) ?? "no answer", "error": attempt.error ?? false,
                    "outcome": Self.label(attempt.outcome), "good": attempt.outcome == .delivered || (attempt.outcome == .test && attempt.status.map { (200..<300).contains($0) } == true),
                    "retry": attempt.retry == 0 ? "first try" : "retry \(attempt.retry)", "ms": attempt.milliseconds,
                ]
            },
        ]
        if let notice { values["notice"] = notice }
        return page("webhook", values, title: webhook.friendlyName.map { "Webhook \($0)" } ?? "Webhook", session: session, current: "webhooks", status: status)
    }

    func createWebhook(_ form: FormBody, _ session: WebSession) async -> Response {
        guard let webhooks else { return problem(.notFound, "Not found", "There are no webhooks here.", session: session) }
        do {
            let webhook = try await webhooks.create(account: session.user, Self.change(from: form))
            return Self.redirect("/dashboard/webhooks/\(webhook.id)")
        } catch {
            if case .store = error { return await webhooksPage(session, notice: "Not added: \(error.message).", status: .serviceUnavailable) }
            return await webhooksPage(session, notice: "Not added: \(error.message).", status: .badRequest)
        }
    }

    func changeWebhook(_ id: String, _ action: String, _ form: FormBody, _ session: WebSession) async -> Response {
        guard let webhooks, let webhook = try? await webhooks.webhook(id: id, account: session.user) else {
            return problem(.notFound, "No such webhook", "There is no webhook with this id in your account.", session: session)
        }
        do {
            switch action {
            case "settings":
                _ = try await webhooks.update(webhook, Self.change(from: form, everyEvent: true))
                return await webhookPage(id, session, notice: "Settings saved.")
            case "signing":
                _ = try await webhooks.setSigned(webhook, enabled: form["enabled"] == "on")
                return await webhookPage(id, session, notice: form["enabled"] == "on" ? "Signing is on with a new key." : "Signing is off.")
            case "test":
                let attempt = try await webhooks.test(account: session.user, webhook: webhook, url: nil)
                return await webhookPage(id, session, notice: "Test event delivered: the receiver answered HTTP \(attempt.status ?? 0).")
            default:
                try await webhooks.remove(id: webhook.id, account: session.user)
                return Self.redirect("/dashboard/webhooks")
            }
        } catch {
            return await webhookPage(id, session, notice: "\(action == "test" ? "Test failed" : "Not saved"): \(error.message).", status: .badRequest)
        }
    }

    /// A change from the form. Settings forms carry every checkbox, so one not sent is off;
    /// the add form starts from what is ticked.
    static func change(from form: FormBody, everyEvent: Bool = false) -> EventWebhooks.Change {
        let ticked = Set(form.getAll("event"))
        var events: [String: Bool] = [:]
        for name in EventWebhook.eventNames { events[name] = ticked.contains(name) }
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        return EventWebhooks.Change(
            url: (form["url"] ?? "").trimmingCharacters(in: .whitespaces), enabled: everyEvent ? form["enabled"] == "on" : true,
            friendlyName: name, events: events)
    }

    static func eventSummary(_ webhook: EventWebhook) -> String {
        let on = webhookEventLabels.filter { webhook.events.contains($0.name) }
        if on.count == webhookEventLabels.count { return "every event" }
        return on.isEmpty ? "no events" : on.map(\.label).joined(separator: ", ")
    }

    /// How deliveries stand: fine, or failing with the next retry.
    static func health(_ webhook: EventWebhook) -> String {
        guard webhook.enabled else { return "disabled" }
        guard webhook.failures > 0 else { return "delivering" }
        return "failing: \(webhook.failures) failed \(webhook.failures == 1 ? "post" : "posts") in a row, next try \(time(webhook.nextAttemptAt))"
    }

    static func label(_ outcome: WebhookAttempt.Outcome) -> String {
        switch outcome {
        case .delivered: "delivered"
        case .failed: "failed, will retry"
        case .gaveUp: "failed, given up"
        case .test: "test"
        }
    }
}
