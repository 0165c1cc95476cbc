/// The `query` parameter of SendGrid's `GET /v3/messages`: conditions `KEY="VALUE"` joined by
/// `AND`, e.g. `to_email="a@b.test" AND status="delivered"`. Tern reads the keys it can answer
/// (`to_email`, `from_email`, `subject`, `status`, `msg_id`); anything else is an error naming
/// what was not understood. Linear in the text, and bounded.
public struct ActivityQuery: Hashable, Sendable {
    public var toEmail: String?
    public var fromEmail: String?
    public var subject: String?
    /// `processed`, `delivered` or `not_delivered`.
    public var status: String?
    public var messageID: String?

    public static let maximumLength = 2048
    public static let statuses: Set<String> = ["processed", "delivered", "not_delivered"]

    public init() {}

    public enum Failure: Error, Hashable, Sendable {
        case tooLong
        case syntax(String)
        case unknownKey(String)
        case badStatus(String)

        public var message: String {
            switch self {
            case .tooLong: "query is longer than \(ActivityQuery.maximumLength) characters"
            case .syntax(let detail): "query is not KEY=\"VALUE\" conditions joined by AND: \(detail)"
            case .unknownKey(let key): "query key \(key) is not supported; use to_email, from_email, subject, status or msg_id"
            case .badStatus(let value): "status \(value) is not one of processed, delivered, not_delivered"
            }
        }
    }

    public init(parsing text: String) throws(Failure) {
        guard text.utf8.count <= Self.maximumLength else { throw .tooLong }
        var rest = Substring(text)
        func skipSpaces() { rest = rest.drop { $0 == " " || $0 == "\t" } }
        skipSpaces()
        var first = true
        while !rest.isEmpty {
            if !first {
                guard rest.prefix(3).uppercased() == "AND", rest.dropFirst(3).first.map({ $0 == " " || $0 == "\t" }) == true else {
                    throw .syntax("expected AND before \(rest.prefix(20))")
                }
                rest = rest.dropFirst(3)
                skipSpaces()
            }
            first = false
            let key = rest.prefix { $0.isLetter || $0 == "_" }
            guard !key.isEmpty else { throw .syntax("expected a key at \(rest.prefix(20))") }
            rest = rest.dropFirst(key.count)
            skipSpaces()
            guard rest.first == "=" else { throw .syntax("expected = after \(key)") }
            rest = rest.dropFirst()
            skipSpaces()
            guard rest.first == "\"" else { throw .syntax("expected a quoted value after \(key)=") }
            rest = rest.dropFirst()
            var value = ""
            var closed = false
            while let character = rest.first {
                rest = rest.dropFirst()
                if character == "\\", let next = rest.first {
                    value.append(next)
                    rest = rest.dropFirst()
                } else if character == "\"" {
                    closed = true
                    break
                } else {
                    value.append(character)
                }
            }
            guard closed else { throw .syntax("unterminated value of \(key)") }
            switch key.lowercased() {
            case "to_email": toEmail = value
            case "from_email": fromEmail = value
            case "subject": subject = value
            case "msg_id": messageID = value
            case "status":
                guard Self.statuses.contains(value) else { throw .badStatus(value) }
                status = value
            default: throw .unknownKey(String(key))
            }
            skipSpaces()
        }
    }
}
