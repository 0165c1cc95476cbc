import Dispatch
import MailStore
import SASL

/// A credential lookup a login needs: what `AuthenticationExchange` asks and
/// `AccountAuthenticator` answers.
public enum CredentialLookup: Sendable, Equatable {
    /// Check a password (or an API key used as one).
    case password(username: String, password: String)
    /// The SCRAM-SHA-256 keys of a user.
    case scram(username: String)
    /// The CRAM-MD5 shared secret of a user.
    case cram(username: String)
}

/// The answer to a `CredentialLookup`. `account` is the account the credential belongs to, or
/// nil when there is none; it is what the login ends authenticated as, never the name typed.
public enum CredentialAnswer: Sendable, Equatable {
    case password(account: String?)
    case scram(SCRAMCredentials?, account: String?)
    case cram(secret: [UInt8]?, account: String?)
}

/// Every password, SCRAM, CRAM-MD5 and API-key check of every front end (SMTP AUTH, POP3, IMAP,
/// HTTP). An unknown user is checked against a decoy hash, so the answer takes as long as for a
/// wrong password and cannot tell the two apart.
public final class AccountAuthenticator: Sendable {
    private let directory: any DirectoryRepository
    /// Derives SCRAM decoy salts for unknown users; the server keeps one across restarts.
    private let decoySecret: [UInt8]
    private let queue = DispatchQueue(label: "tern.authenticator", qos: .userInitiated, attributes: .concurrent)
    private let keyUse: APIKeyUse

    /// - Parameter decoySecret: the server secret SCRAM decoy salts derive from (`tern serve`
    ///   passes the one kept in `data_dir`); random when not given.
    public init(directory: any DirectoryRepository, decoySecret: [UInt8]? = nil) {
        self.directory = directory
        keyUse = APIKeyUse(directory: directory)
        var generator = SystemRandomNumberGenerator()
        self.decoySecret = decoySecret ?? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Answers `lookup` on a queue of its own: scrypt takes tens of milliseconds and must never
    /// run on an event loop or the cooperative pool. `completion` runs on that queue.
    public func answer(_ lookup: CredentialLookup, completion: @escaping @Sendable (CredentialAnswer) -> Void) {
        let directory = self.directory
        let decoySecret = self.decoySecret
        let keyUse = self.keyUse
        queue.async { completion(Self.answer(lookup, directory: directory, decoySecret: decoySecret, keyUse: keyUse)) }
    }

    /// `answer(_:completion:)` for async callers.
    public func answer(_ lookup: CredentialLookup) async -> CredentialAnswer {
        await withCheckedContinuation { continuation in answer(lookup) { continuation.resume(returning: $0) } }
    }

    /// The account `username` + `password` log in as, or nil; blocking (scrypt).
    public func account(username: String, password: String) -> String? {
        Self.account(username: username.lowercased(), password: password, directory: directory, keyUse: keyUse)
    }

    /// The live key `text` names, when its secret matches; nil for anything else. Cheap (one
    /// SHA-256 and one indexed read), so the HTTP API calls it on its own task.
    public func apiKey(text: String) -> APIKeyRecord? {
        guard let key = APIKey(text: text), let record = try? directory.apiKey(id: key.id), record.revokedAt == nil,
            APIKey.matches(secret: key.secret, storedHash: record.secretHash)
        else {
            // The same hash work for a malformed or unknown key, so timing tells nothing.
            _ = APIKey.matches(secret: text, storedHash: Self.decoyKeyHash)
            return nil
        }
        keyUse.note(record.id)
        return record
    }

    static let decoyKeyHash = APIKey.hash("decoy")

    static func answer(_ lookup: CredentialLookup, directory: any DirectoryRepository, decoySecret: [UInt8], keyUse: APIKeyUse) -> CredentialAnswer {
        switch lookup {
        case .password(let username, let password):
            return .password(account: account(username: username.lowercased(), password: password, directory: directory, keyUse: keyUse))
        case .scram(let username):
            let stored = try? directory.credentials(username.lowercased())
            guard let credentials = stored?.scram.flatMap(SCRAMCredentials.init(encoded:)) else {
                return .scram(.decoy(for: username, secret: decoySecret), account: nil)
            }
            return .scram(credentials, account: stored?.address)
        case .cram(let username):
            let stored = try? directory.credentials(username.lowercased())
            let secret = stored?.cramSecret.map { Array($0.utf8) }
            return .cram(secret: secret, account: secret == nil ? nil : stored?.address)
        }
    }

    static func account(username: String, password: String, directory: any DirectoryRepository, keyUse: APIKeyUse) -> String? {
        // An API key as the password (the hosted-service convention): user name "apikey" or the
        // key's own account.
        if let key = APIKey(text: password) {
            guard let record = try? directory.apiKey(id: key.id), record.revokedAt == nil,
                APIKey.matches(secret: key.secret, storedHash: record.secretHash), username == "apikey" || username == record.user
            else { return nil }
            keyUse.note(record.id)
            return record.user
        }
        let stored = try? directory.credentials(username)
        let valid = PasswordHash.verify(password, against: stored?.passwordHash ?? decoyHash)
        return valid ? stored?.address : nil
    }

    /// A hash of a random password with the default cost, made once.
    static let decoyHash: String = (try? PasswordHash.make(SASLServerExchange.randomNonce())) ?? ""
}
