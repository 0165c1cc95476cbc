import Crypto
import MailCore

/// An API key: `tern_<id>_<secret>`. The id finds the row; only SHA-256 of the secret is
/// stored (a 190-bit random secret needs no slow hash). Shown once, at creation.
public struct APIKey: Hashable, Sendable {
    public var id: String
    public var secret: String

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// A new random key.
    public static func generate() -> APIKey {
        var generator = SystemRandomNumberGenerator()
        func random(_ n: Int) -> String {
            String((0..<n).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
        }
        return APIKey(id: random(10).lowercased(), secret: random(32))
    }

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses the text form; nil when it is not a Tern key.
    public init?(text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tern", parts[1].count == 10, parts[2].count == 32,
            parts[1].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }), parts[2].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        self.init(id: String(parts[1]), secret: String(parts[2]))
    }

    public var text: String { "tern_\(id)_\(secret)" }

    /// The stored form: hex SHA-256 of the secret.
    public var secretHash: String { Self.hash(secret) }

    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `secret` matches a stored hash, without an early exit.
    public static func matches(secret: String, storedHash: String) -> Bool {
        ConstantTime.equal(hash(secret).utf8, storedHash.utf8)
    }
}

/// An API key's row, without its secret.
public struct APIKeyRecord: Hashable, Sendable {
    public var id: String
    public var user: String
    public var name: String
    public var secretHash: String
    public var createdAt: Int
    public var revokedAt: Int?
    /// What the key may do over the HTTP API; as the SMTP password any key may send.
    public var scopes: Set<APIScope>
    /// Mail the key sends over the HTTP API goes to the account's sandbox inbox, never out.
    public var sandbox: Bool
    /// When the key last authenticated (to the minute: uses are written at most once a minute).
    public var lastUsedAt: Int?

    public init(
        id: String, user: String, name: String, secretHash: String, createdAt: Int, revokedAt: Int? = nil, scopes: Set<APIScope> = [.full],
        sandbox: Bool = false, lastUsedAt: Int? = nil
    ) {
        self.lastUsedAt = lastUsedAt
        self.sandbox = sandbox
        self.scopes = scopes
        self.id = id
        self.user = user
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
