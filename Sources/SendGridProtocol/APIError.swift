/// SendGrid's error shape: `{"errors":[{"message":…,"field":…,"help":…}]}`, every error of a
/// request at once; `field` is a dotted, indexed path (`personalizations.0.to`) or null.
public struct APIError: Codable, Sendable, Hashable {
    public var message: String
    public var field: String?
    public var help: String?

    public init(_ message: String, field: String? = nil, help: String? = nil) {
        self.message = message
        self.field = field
        self.help = help
    }

    /// The body of a response carrying `errors`.
    public struct Body: Codable, Sendable, Hashable {
        public var errors: [APIError]

        public init(errors: [APIError]) {
            self.errors = errors
        }
    }

    /// 401: SendGrid's text for a missing, bad or revoked key.
    public static let badKey = APIError("The provided authorization grant is invalid, expired, or revoked")
}
