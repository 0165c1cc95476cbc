import Foundation
import MailStore
import SendGridProtocol

/// An account's own tracking defaults (SendGrid's `/v3/tracking_settings`), over the server's
/// `[engagement]` ones: what a message of the account gets unless it says otherwise.
public struct TrackingPreferences: Sendable {
    let store: any EngagementRepository
    public let serverDefaults: TrackingSettings

    public init(store: any EngagementRepository, serverDefaults: TrackingSettings) {
        self.store = store
        self.serverDefaults = serverDefaults
    }

    /// The account's settings as stored (only what it set).
    public func own(account: String) -> TrackingSettings {
        guard let text = try? store.trackingSettings(account: account),
            let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        else { return TrackingSettings() }
        return TrackingSettings(json: value)
    }

    /// What the account's messages get by default.
    public func settings(account: String) -> TrackingSettings { own(account: account).over(serverDefaults) }

    /// Changes the account's own settings; the effective settings after.
    public func update(account: String, _ change: (inout TrackingSettings) -> Void) async throws(StoreError) -> TrackingSettings {
        var settings = own(account: account)
        change(&settings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = (try? encoder.encode(settings.json)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try await store.setTrackingSettings(account: account, json: text)
        return settings.over(serverDefaults)
    }
}
