import Foundation
import Hummingbird
import MailService
import SendGridProtocol

/// SendGrid's Settings – Tracking: `GET /v3/tracking_settings` and `GET`/`PATCH
/// /v3/tracking_settings/{open,click,subscription}`, an account's own defaults over the
/// server's `[engagement]` ones (a message's `tracking_settings` still overrides them).
struct TrackingSettingsEndpoint {
    let preferences: TrackingPreferences

    struct Summary: Encodable {
        var name: String
        var title: String
        var description: String
        var enabled: Bool
    }

    struct Listing: Encodable {
        var result: [Summary]
    }

    struct Open: Codable {
        var enabled: Bool?
    }

    struct Click: Codable {
        var enabled: Bool?
        var enableText: Bool?
        enum CodingKeys: String, CodingKey {
            case enabled
            case enableText = "enable_text"
        }
    }

    struct Subscription: Codable {
        var enabled: Bool?
        var htmlContent: String?
        var plainContent: String?
        var replace: String?
        enum CodingKeys: String, CodingKey {
            case enabled, replace
            case htmlContent = "html_content"
            case plainContent = "plain_content"
        }
    }

    static let bodyLimit = 64 * 1024

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("tracking_settings") { _, context in try list(context) }
        router.get("tracking_settings/open") { _, context in try open(context) }
        router.patch("tracking_settings/open") { request, context in try await updateOpen(request, context) }
        router.get("tracking_settings/click") { _, context in try click(context) }
        router.patch("tracking_settings/click") { request, context in try await updateClick(request, context) }
        router.get("tracking_settings/subscription") { _, context in try subscription(context) }
        router.patch("tracking_settings/subscription") { request, context in try await updateSubscription(request, context) }
    }

    func list(_ context: APIRequestContext) throws -> Response {
        let key = try context.requireScope(.trackingSettings)
        let settings = preferences.settings(account: key.user)
        return APIJSON.response(
            Listing(result: [
                Summary(name: "click", title: "Click Tracking", description: "Links in mail go through Tern, which records clicks", enabled: settings.tracksClicks),
                Summary(name: "open", title: "Open Tracking", description: "An invisible image records opens", enabled: settings.tracksOpens),
                Summary(
                    name: "subscription", title: "Subscription Tracking", description: "A footer and List-Unsubscribe let recipients unsubscribe",
                    enabled: settings.tracksSubscriptions),
            ]))
    }

    func open(_ context: APIRequestContext) throws -> Response {
        let key = try context.requireScope(.trackingSettings)
        return APIJSON.response(Open(enabled: preferences.settings(account: key.user).tracksOpens))
    }

    func updateOpen(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.trackingSettings)
        let body = try BodyReader.decode(Open.self, from: try await BodyReader.bytes(of: request, limit: Self.bodyLimit))
        let settings = try await save(key.user) { if let enabled = body.enabled { $0.openTracking = enabled } }
        return APIJSON.response(Open(enabled: settings.tracksOpens))
    }

    func click(_ context: APIRequestContext) throws -> Response {
        let key = try context.requireScope(.trackingSettings)
        let settings = preferences.settings(account: key.user)
        return APIJSON.response(Click(enabled: settings.tracksClicks, enableText: settings.clickTrackingText == true))
    }

    func updateClick(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.trackingSettings)
        let body = try BodyReader.decode(Click.self, from: try await BodyReader.bytes(of: request, limit: Self.bodyLimit))
        let settings = try await save(key.user) {
            if let enabled = body.enabled { $0.clickTracking = enabled }
            if let text = body.enableText { $0.clickTrackingText = text }
        }
        return APIJSON.response(Click(enabled: settings.tracksClicks, enableText: settings.clickTrackingText == true))
    }

    func subscription(_ context: APIRequestContext) throws -> Response {
        let key = try context.requireScope(.trackingSettings)
        return APIJSON.response(Self.view(preferences.settings(account: key.user)))
    }

    func updateSubscription(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.trackingSettings)
        let body = try BodyReader.decode(Subscription.self, from: try await BodyReader.bytes(of: request, limit: Self.bodyLimit))
        let settings = try await save(key.user) {
            if let enabled = body.enabled { $0.subscriptionTracking = enabled }
            if let html = body.htmlContent { $0.subscriptionHTML = html }
            if let text = body.plainContent { $0.subscriptionText = text }
            if let replace = body.replace { $0.subscriptionSubstitutionTag = replace.isEmpty ? nil : replace }
        }
        return APIJSON.response(Self.view(settings))
    }

    static func view(_ settings: TrackingSettings) -> Subscription {
        Subscription(
            enabled: settings.tracksSubscriptions, htmlContent: settings.subscriptionHTML ?? "", plainContent: settings.subscriptionText ?? "",
            replace: settings.subscriptionSubstitutionTag ?? "")
    }

    func save(_ account: String, _ change: (inout TrackingSettings) -> Void) async throws -> TrackingSettings {
        do {
            return try await preferences.update(account: account, change)
        } catch {
            throw APIFailure(.serviceUnavailable, "storage is unavailable; try again")
        }
    }
}
