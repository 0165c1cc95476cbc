import Crypto
import CryptoExtras
import Foundation
import MailCore

/// What the server stores for SCRAM-SHA-256 (RFC 5802 §3): never the password.
public struct SCRAMCredentials: Hashable, Sendable {
    public var salt: [UInt8]
    public var iterations: Int
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// RFC 7677 §4: at least 4096 iterations.
    public static let defaultIterations = 10_000

    /// Derives the stored keys from a password (RFC 5802 §3).
    public static func derive(password: String, salt: [UInt8], iterations: Int = defaultIterations) throws -> SCRAMCredentials {
        let salted = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: salted))
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: salted))
        return SCRAMCredentials(salt: salt, iterations: iterations, storedKey: Array(SHA256.hash(data: clientKey)), serverKey: serverKey)
    }

    /// What an unknown user is answered with: random keys, and a salt derived from the name and
    /// a server secret, so asking twice for the same unknown name gets the same salt (a random
    /// salt per attempt would tell unknown users from real ones, whose salt never changes).
    public static func decoy(for username: String, secret: [UInt8]) -> SCRAMCredentials {
        var credentials = decoy()
        let mac = HMAC<SHA256>.authenticationCode(for: Array("tern-scram-decoy-salt:\(username.lowercased())".utf8), using: SymmetricKey(data: secret))
        credentials.salt = Array(Array(mac).prefix(16))
        return credentials
    }

    /// Random keys with a random salt.
    public static func decoy() -> SCRAMCredentials {
        var generator = SystemRandomNumberGenerator()
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        return SCRAMCredentials(salt: random(16), iterations: defaultIterations, storedKey: random(32), serverKey: random(32))
    }

    /// `iterations$salt$storedKey$serverKey`, base64 parts: how the store keeps them.
    public var encoded: String {
        "\(iterations)$\(Base64Text.encode(salt))$\(Base64Text.encode(storedKey))$\(Base64Text.encode(serverKey))"
    }

    public init?(encoded: String) {
        let parts = encoded.split(separator: "$")
        guard parts.count == 4, let iterations = Int(parts[0]), iterations > 0, let salt = Base64Text.decode(String(parts[1])),
            let stored = Base64Text.decode(String(parts[2])), let server = Base64Text.decode(String(parts[3])), stored.count == 32, server.count == 32
        else { return nil }
        self.init(salt: salt, iterations: iterations, storedKey: stored, serverKey: server)
    }
}

/// The SCRAM-SHA-256 messages (RFC 5802 §7), server side.
enum SCRAM {
    /// client-first-message = gs2-header client-first-message-bare
    struct ClientFirst: Hashable, Sendable {
        var gs2Header: String
        var authorizationID: String?
        var username: String
        var clientNonce: String
        var bare: String

        init?(_ data: [UInt8]) {
            guard let text = String(validating: data, as: UTF8.self) else { return nil }
            // gs2-cbind-flag: "n" (no channel binding) or "y" (client could, thinks we cannot).
            // "p=" asks for channel binding, which plain SCRAM-SHA-256 does not offer.
            let fields = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "n" || fields[0] == "y" else { return nil }
            if fields[1].isEmpty {
                authorizationID = nil
            } else {
                guard fields[1].hasPrefix("a="), let name = Self.saslname(fields[1].dropFirst(2)) else { return nil }
                authorizationID = name
            }
            gs2Header = "\(fields[0]),\(fields[1]),"
            bare = String(fields[2])
            let attributes = bare.split(separator: ",", omittingEmptySubsequences: false)
            // reserved-mext "m=" must make the exchange fail (RFC 5802 §5.1).
            guard attributes.count >= 2, attributes[0].hasPrefix("n="), attributes[1].hasPrefix("r="),
                let name = Self.saslname(attributes[0].dropFirst(2)), !name.isEmpty
            else { return nil }
            let nonce = String(attributes[1].dropFirst(2))
            guard !nonce.isEmpty, nonce.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E && $0 != "," }) else { return nil }
            username = name
            clientNonce = nonce
        }

        /// saslname: "=2C" is ",", "=3D" is "=", any other "=" is an error.
        static func saslname(_ text: Substring) -> String? {
            var out = ""
            var rest = text
            while let eq = rest.firstIndex(of: "=") {
                out += rest[..<eq]
                let code = rest[eq...].prefix(3)
                switch code {
                case "=2C": out += ","
                case "=3D": out += "="
                default: return nil
                }
                rest = rest[rest.index(eq, offsetBy: 3)...]
            }
            out += rest
            return out
        }
    }

    /// server-first-message = nonce "," salt "," iteration-count
    struct ServerFirst: Sendable {
        var clientFirst: ClientFirst
        var nonce: String
        var credentials: SCRAMCredentials
        var userKnown: Bool
        var message: String

        init(clientFirst: ClientFirst, serverNonce: String, credentials: SCRAMCredentials, userKnown: Bool) {
            self.clientFirst = clientFirst
            self.nonce = clientFirst.clientNonce + serverNonce
            self.credentials = credentials
            self.userKnown = userKnown
            self.message = "r=\(nonce),s=\(Base64Text.encode(credentials.salt)),i=\(credentials.iterations)"
        }

        /// Checks client-final-message; returns server-final-message (`v=...`) when the proof is
        /// right, nil otherwise.
        func verify(clientFinal data: [UInt8]) -> [UInt8]? {
            guard userKnown, let text = String(validating: data, as: UTF8.self), let proofRange = text.range(of: ",p=", options: .backwards)
            else { return nil }
            let withoutProof = String(text[..<proofRange.lowerBound])
            guard let proof = Base64Text.decode(String(text[proofRange.upperBound...])), proof.count == 32 else { return nil }
            let attributes = withoutProof.split(separator: ",", omittingEmptySubsequences: false)
            guard attributes.count >= 2, attributes[0] == "c=\(Base64Text.encode(Array(clientFirst.gs2Header.utf8)))",
                attributes[1] == "r=\(nonce)"
            else { return nil }
            let authMessage = Array("\(clientFirst.bare),\(message),\(withoutProof)".utf8)
            let storedKey = SymmetricKey(data: credentials.storedKey)
            let clientSignature = Array(HMAC<SHA256>.authenticationCode(for: authMessage, using: storedKey))
            let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
            guard ConstantTime.equal(Array(SHA256.hash(data: clientKey)), credentials.storedKey) else { return nil }
            let serverSignature = HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: credentials.serverKey))
            return Array("v=\(Base64Text.encode(Array(serverSignature)))".utf8)
        }
    }
}

/// HMAC-MD5 for CRAM-MD5 (RFC 2195), as lower-case hex.
enum HMACMD5 {
    static func hex(key: [UInt8], message: [UInt8]) -> String {
        let mac = HMAC<Insecure.MD5>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return mac.map { String(format: "%02x", $0) }.joined()
    }
}
