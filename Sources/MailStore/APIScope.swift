/// What an API key may do over the HTTP API (issue 13). SendGrid's own scopes are finer
/// (`api_keys.create`, `suppression.read`, …); a SendGrid scope name is read as the Tern scope
/// of its area, so a request that copies SendGrid's list still gets a working key.
public enum APIScope: String, CaseIterable, Hashable, Sendable, Comparable {
    case mailSend = "mail.send"
    case messagesRead = "messages.read"
    case statsRead = "stats.read"
    case suppressions
    case webhooks
    case apiKeys = "api_keys"
    /// Dynamic templates and their versions (issue 15).
    case templates
    /// An account's open, click and subscription tracking defaults.
    case trackingSettings = "tracking_settings"
    /// Every scope, now and later.
    case full

    /// A Tern scope name, or a SendGrid one read as its area; nil for anything else.
    public init?(name: String) {
        if let exact = APIScope(rawValue: name) {
            self = exact
            return
        }
        let area = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        switch area {
        case "mail": if name == "mail.batch.create" || name == "mail.batch.read" { self = .mailSend } else { return nil }
        case "messages": self = .messagesRead
        case "stats", "categories": self = .statsRead
        case "suppression", "asm": self = .suppressions
        case "user" where name.hasPrefix("user.webhooks."): self = .webhooks
        case "api_keys": self = .apiKeys
        case "templates": self = .templates
        case "tracking_settings": self = .trackingSettings
        default: return nil
        }
    }

    public static func < (lhs: APIScope, rhs: APIScope) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Set where Element == APIScope {
    /// Whether a key with these scopes may do what `scope` allows.
    public func allows(_ scope: APIScope) -> Bool { contains(.full) || contains(scope) }

    /// The stored form: names sorted, separated by spaces.
    public var stored: String { sorted().map(\.rawValue).joined(separator: " ") }

    /// Reads the stored form; unknown names (from a newer version) are left out.
    public init(stored: String) {
        self.init(stored.split(separator: " ").compactMap { APIScope(rawValue: String($0)) })
    }
}
