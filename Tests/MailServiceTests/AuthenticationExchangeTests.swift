import Crypto
import CryptoExtras
import Foundation
import MailCore
import MailService
import MailStore
import SASL
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A directory that knows a few credentials; everything else is empty.
final class CredentialDirectory: DirectoryRepository, @unchecked Sendable {
    var credentials: [String: StoredCredentials] = [:]
    var keys: [String: APIKeyRecord] = [:]

    func addDomain(_ name: String) async throws(StoreError) {}
    func listDomains() async throws(StoreError) -> [HostedDomain] { [] }
    func isHostedDomain(_ name: String) async throws(StoreError) -> Bool { false }
    func addUser(_ user: MailUser) async throws(StoreError) {}
    func listUsers() async throws(StoreError) -> [MailUser] { [] }
    func user(_ address: String) async throws(StoreError) -> MailUser? { nil }
    func removeUser(_ address: String) async throws(StoreError) {}
    func recipientStatus(domain: String, address: String) throws(StoreError) -> RecipientStatus { .notHosted }
    func credentials(_ address: String) throws(StoreError) -> StoredCredentials? { credentials[address] }
    func addAPIKey(_ key: APIKeyRecord) async throws(StoreError) {}
    func listAPIKeys(user: String) async throws(StoreError) -> [APIKeyRecord] { [] }
    func revokeAPIKey(id: String, at: Int) async throws(StoreError) -> Bool { false }
    func updateAPIKey(id: String, name: String?, scopes: Set<APIScope>?) async throws(StoreError) -> Bool { false }
    func apiKey(id: String) throws(StoreError) -> APIKeyRecord? { keys[id] }
    func recordAPIKeyUse(id: String, at: Int) async throws(StoreError) {}
    func allowSendingDomain(user: String, domain: String) async throws(StoreError) {}
    func sendingDomains(user: String) throws(StoreError) -> [String] { [] }
    func plan(user: String) throws(StoreError) -> String? { nil }
    func setPlan(user: String, plan: String) async throws(StoreError) {}
    func setOperator(user: String, _ isOperator: Bool) async throws(StoreError) {}
    func setCredentials(user: String, passwordHash: String, scram: String?, cramSecret: String?) async throws(StoreError) {}
    func usage(user: String, periods: [String]) throws(StoreError) -> [String: Int] { [:] }
}

@Suite struct AuthenticationExchangeTests {
    /// RFC 7677 §3's example user, stored as alice@example.test.
    static let salt: [UInt8] = Base64Text.decode("W22ZaJ0SNY7soEsUEjb6gQ==")!
    static let aliceSCRAM = try! SCRAMCredentials.derive(password: "pencil", salt: salt, iterations: 4096)

    func directory() throws -> CredentialDirectory {
        let directory = CredentialDirectory()
        directory.credentials["alice@example.test"] = StoredCredentials(
            address: "alice@example.test", passwordHash: try PasswordHash.make("pencil"), scram: Self.aliceSCRAM.encoded)
        directory.credentials["bob@other.test"] = StoredCredentials(
            address: "bob@other.test", passwordHash: try PasswordHash.make("bobs-password"), scram: nil, cramSecret: "bobs-password")
        return directory
    }

    /// Runs a lookup the way a front end does, through the authenticator.
    func run(_ step: AuthenticationExchange.Step, _ exchange: inout AuthenticationExchange, _ authenticator: AccountAuthenticator) async
        -> AuthenticationExchange.Step
    {
        guard case .lookUp(let lookup) = step else { return step }
        return exchange.answer(await authenticator.answer(lookup))
    }

    /// Issue 11: a failed CRAM-MD5 exchange naming bob, then a good SCRAM login of alice's own,
    /// must end as alice; the old handlers kept bob's looked-up name and logged in as him.
    @Test func failedCRAMLendsNothingToTheNextMechanism() async throws {
        let authenticator = AccountAuthenticator(directory: try directory())
        var cram = AuthenticationExchange(mechanism: .cramMD5, hostname: "mx.test")
        guard case .challenge = cram.start(initialResponse: nil) else { Issue.record("no CRAM challenge"); return }
        let lookup = cram.respond(bytes("bob@other.test 0123456789abcdef0123456789abcdef"))
        #expect(lookup == .lookUp(.cram(username: "bob@other.test")))
        #expect(await run(lookup, &cram, authenticator) == .failed(.invalidCredentials))

        var scram = AuthenticationExchange(mechanism: .scramSHA256, hostname: "mx.test", nonce: { "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" })
        let first = scram.start(initialResponse: bytes("n,,n=alice@example.test,r=rOprNGfwEbeRWgbNEkqO"))
        #expect(first == .lookUp(.scram(username: "alice@example.test")))
        guard case .challenge = await run(first, &scram, authenticator) else { Issue.record("no server-first"); return }
        // The RFC 7677 proof depends only on the password, salt, nonces and the client-first bare
        // message, which names our user: recompute it for "alice@example.test".
        let final = SCRAMClientProof.clientFinal(
            password: "pencil", salt: Self.salt, iterations: 4096, clientFirstBare: "n=alice@example.test,r=rOprNGfwEbeRWgbNEkqO",
            serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        guard case .challenge = scram.respond(bytes(final)) else { Issue.record("SCRAM proof refused"); return }
        #expect(scram.respond([]) == .authenticated(account: "alice@example.test"))
    }

    /// The salt in the server-first message of a SCRAM login as `user`.
    func serverFirstSalt(_ user: String, _ authenticator: AccountAuthenticator) async -> String? {
        var scram = AuthenticationExchange(mechanism: .scramSHA256, hostname: "mx.test")
        let first = scram.start(initialResponse: bytes("n,,n=\(user),r=clientnonce"))
        guard case .challenge(let serverFirst) = await run(first, &scram, authenticator) else { return nil }
        return String(decoding: serverFirst, as: UTF8.self).split(separator: ",").first { $0.hasPrefix("s=") }.map(String.init)
    }

    /// Issue 12 item 10: an unknown user's decoy salt is the same at every attempt (it was random
    /// each time, while a real user's never changes: two attempts told them apart), differs
    /// between names, and depends on the server secret.
    @Test func decoySaltIsStablePerName() async throws {
        let secret = [UInt8](repeating: 7, count: 32)
        let authenticator = AccountAuthenticator(directory: try directory(), decoySecret: secret)
        let first = await serverFirstSalt("nobody@example.test", authenticator)
        #expect(first != nil)
        #expect(await serverFirstSalt("nobody@example.test", authenticator) == first)
        #expect(await serverFirstSalt("NOBODY@example.test", authenticator) == first)
        #expect(await serverFirstSalt("someone-else@example.test", authenticator) != first)
        let restarted = AccountAuthenticator(directory: try directory(), decoySecret: secret)
        #expect(await serverFirstSalt("nobody@example.test", restarted) == first)
        let otherServer = AccountAuthenticator(directory: try directory(), decoySecret: [UInt8](repeating: 8, count: 32))
        #expect(await serverFirstSalt("nobody@example.test", otherServer) != first)
        // The real user's salt is the stored one, and the decoy's proof never succeeds.
        #expect(await serverFirstSalt("alice@example.test", authenticator) == "s=W22ZaJ0SNY7soEsUEjb6gQ==")
    }

    /// A success comes only with an account the exchange's own lookup named.
    @Test func successNeedsTheLookupsAccount() {
        var plain = AuthenticationExchange(mechanism: .plain, hostname: "mx.test")
        #expect(plain.start(initialResponse: bytes("\0apikey\0tern_x_y")) == .lookUp(.password(username: "apikey", password: "tern_x_y")))
        #expect(plain.answer(.password(account: "carol@example.test")) == .authenticated(account: "carol@example.test"))

        var wrong = AuthenticationExchange(mechanism: .plain, hostname: "mx.test")
        _ = wrong.start(initialResponse: bytes("\0carol\0nope"))
        #expect(wrong.answer(.password(account: nil)) == .failed(.invalidCredentials))
        // Nothing more happens in a finished exchange.
        #expect(wrong.answer(.password(account: "carol@example.test")) == .failed(.malformed))
        #expect(wrong.respond(bytes("x")) == .failed(.malformed))
    }

    @Test func userPassLogin() async throws {
        let authenticator = AccountAuthenticator(directory: try directory())
        var (login, step) = AuthenticationExchange.password(username: "ALICE@example.test", password: "pencil")
        #expect(await run(step, &login, authenticator) == .authenticated(account: "alice@example.test"))
        (login, step) = AuthenticationExchange.password(username: "alice@example.test", password: "wrong")
        #expect(await run(step, &login, authenticator) == .failed(.invalidCredentials))
        (login, step) = AuthenticationExchange.password(username: "nobody@example.test", password: "pencil")
        #expect(await run(step, &login, authenticator) == .failed(.invalidCredentials))
    }

    @Test func cramWithTheRightDigest() async throws {
        let authenticator = AccountAuthenticator(directory: try directory())
        var cram = AuthenticationExchange(mechanism: .cramMD5, hostname: "mx.test", nonce: { "n1" })
        #expect(cram.start(initialResponse: nil) == .challenge(bytes("<n1.mx.test>")))
        let digest = HMACMD5.hex(key: bytes("bobs-password"), message: bytes("<n1.mx.test>"))
        let lookup = cram.respond(bytes("BOB@other.test \(digest)"))
        #expect(await run(lookup, &cram, authenticator) == .authenticated(account: "bob@other.test"))
    }
}

/// The client side of SCRAM-SHA-256 (RFC 5802 §3), for tests.
enum SCRAMClientProof {
    static func clientFinal(password: String, salt: [UInt8], iterations: Int, clientFirstBare: String, serverFirst: String) -> String {
        let salted = try! KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: salted))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let nonce = serverFirst.split(separator: ",")[0].dropFirst(2)
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = "\(clientFirstBare),\(serverFirst),\(withoutProof)"
        let signature = Array(
            HMAC<SHA256>.authenticationCode(for: Array(authMessage.utf8), using: SymmetricKey(data: storedKey)))
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        return "\(withoutProof),p=\(Base64Text.encode(proof))"
    }
}

enum HMACMD5 {
    static func hex(key: [UInt8], message: [UInt8]) -> String {
        HMAC<Insecure.MD5>.authenticationCode(for: message, using: SymmetricKey(data: key)).map { String(format: "%02x", $0) }.joined()
    }
}
