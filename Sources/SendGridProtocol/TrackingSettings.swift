/// Open and click tracking for one message: the send API's `tracking_settings`, or the
/// `filters` of an SMTP message's `X-SMTPAPI` field (`opentrack`, `clicktrack`), over the
/// account's defaults. A setting left out keeps the default.
public struct TrackingSettings: Hashable, Sendable {
    public var openTracking: Bool?
    /// Replaced by the open pixel instead of inserting it before `</body>`.
    public var openSubstitutionTag: String?
    public var clickTracking: Bool?
    /// Links in text/plain parts too.
    public var clickTrackingText: Bool?
    /// `subscription_tracking.enable`: a one-click List-Unsubscribe for the account's global
    /// unsubscribe list even without a group.
    public var subscriptionTracking: Bool?
    /// The footer's text and HTML (`<% %>` marks the link) and the substitution tag.
    public var subscriptionText: String?
    public var subscriptionHTML: String?
    public var subscriptionSubstitutionTag: String?

    public init(
        openTracking: Bool? = nil, openSubstitutionTag: String? = nil, clickTracking: Bool? = nil, clickTrackingText: Bool? = nil,
        subscriptionTracking: Bool? = nil, subscriptionText: String? = nil, subscriptionHTML: String? = nil, subscriptionSubstitutionTag: String? = nil
    ) {
        self.subscriptionTracking = subscriptionTracking
        self.subscriptionText = subscriptionText
        self.subscriptionHTML = subscriptionHTML
        self.subscriptionSubstitutionTag = subscriptionSubstitutionTag
        self.openTracking = openTracking
        self.openSubstitutionTag = openSubstitutionTag
        self.clickTracking = clickTracking
        self.clickTrackingText = clickTrackingText
    }

    /// The send API's `tracking_settings` object.
    public init(json: JSONValue?) {
        self.init()
        guard case .object(let settings)? = json else { return }
        if case .object(let open)? = settings["open_tracking"] {
            openTracking = Self.flag(open["enable"])
            if case .string(let tag)? = open["substitution_tag"], !tag.isEmpty { openSubstitutionTag = tag }
        }
        if case .object(let click)? = settings["click_tracking"] {
            clickTracking = Self.flag(click["enable"])
            clickTrackingText = Self.flag(click["enable_text"])
        }
        if case .object(let subscription)? = settings["subscription_tracking"] {
            subscriptionTracking = Self.flag(subscription["enable"])
            if case .string(let text)? = subscription["text"] { subscriptionText = text }
            if case .string(let html)? = subscription["html"] { subscriptionHTML = html }
            if case .string(let tag)? = subscription["substitution_tag"], !tag.isEmpty { subscriptionSubstitutionTag = tag }
        }
    }

    /// `X-SMTPAPI`'s `filters`: `{"opentrack": {"settings": {"enable": 1, "replace": "%open%"}},
    /// "clicktrack": {"settings": {"enable": 1, "enable_text": 1}}}` (SendGrid's SMTP API).
    public init(filters: JSONValue?) {
        self.init()
        guard case .object(let filters)? = filters else { return }
        if case .object(let open)? = filters["opentrack"], case .object(let settings)? = open["settings"] {
            openTracking = Self.flag(settings["enable"])
            if case .string(let tag)? = settings["replace"], !tag.isEmpty { openSubstitutionTag = tag }
        }
        if case .object(let click)? = filters["clicktrack"], case .object(let settings)? = click["settings"] {
            clickTracking = Self.flag(settings["enable"])
            clickTrackingText = Self.flag(settings["enable_text"])
        }
        if case .object(let subscription)? = filters["subscriptiontrack"], case .object(let settings)? = subscription["settings"] {
            subscriptionTracking = Self.flag(settings["enable"])
            if case .string(let text)? = settings["text/plain"] { subscriptionText = text }
            if case .string(let html)? = settings["text/html"] { subscriptionHTML = html }
            if case .string(let tag)? = settings["replace"], !tag.isEmpty { subscriptionSubstitutionTag = tag }
        }
    }

    /// The send API's `tracking_settings` form of what is set (how an account's own defaults
    /// are kept).
    public var json: JSONValue {
        var settings: [String: JSONValue] = [:]
        var open: [String: JSONValue] = [:]
        if let openTracking { open["enable"] = .bool(openTracking) }
        if let openSubstitutionTag { open["substitution_tag"] = .string(openSubstitutionTag) }
        if !open.isEmpty { settings["open_tracking"] = .object(open) }
        var click: [String: JSONValue] = [:]
        if let clickTracking { click["enable"] = .bool(clickTracking) }
        if let clickTrackingText { click["enable_text"] = .bool(clickTrackingText) }
        if !click.isEmpty { settings["click_tracking"] = .object(click) }
        var subscription: [String: JSONValue] = [:]
        if let subscriptionTracking { subscription["enable"] = .bool(subscriptionTracking) }
        if let subscriptionText { subscription["text"] = .string(subscriptionText) }
        if let subscriptionHTML { subscription["html"] = .string(subscriptionHTML) }
        if let subscriptionSubstitutionTag { subscription["substitution_tag"] = .string(subscriptionSubstitutionTag) }
        if !subscription.isEmpty { settings["subscription_tracking"] = .object(subscription) }
        return .object(settings)
    }

    /// These settings where set, `defaults` elsewhere.
    public func over(_ defaults: TrackingSettings) -> TrackingSettings {
        TrackingSettings(
            openTracking: openTracking ?? defaults.openTracking, openSubstitutionTag: openSubstitutionTag ?? defaults.openSubstitutionTag,
            clickTracking: clickTracking ?? defaults.clickTracking, clickTrackingText: clickTrackingText ?? defaults.clickTrackingText,
            subscriptionTracking: subscriptionTracking ?? defaults.subscriptionTracking, subscriptionText: subscriptionText ?? defaults.subscriptionText,
            subscriptionHTML: subscriptionHTML ?? defaults.subscriptionHTML,
            subscriptionSubstitutionTag: subscriptionSubstitutionTag ?? defaults.subscriptionSubstitutionTag)
    }

    public var tracksOpens: Bool { openTracking == true }
    public var tracksClicks: Bool { clickTracking == true }
    public var tracksSubscriptions: Bool { subscriptionTracking == true }

    /// `true`/`false`, and SendGrid's SMTP API's `1`/`0` (also as text).
    static func flag(_ value: JSONValue?) -> Bool? {
        switch value {
        case .bool(let flag)?: flag
        case .int(let number)?: number != 0
        case .string(let text)?: ["1", "true"].contains(text.lowercased()) ? true : (["0", "false"].contains(text.lowercased()) ? false : nil)
        default: nil
        }
    }
}
