import Dispatch
import Foundation
import MailAuth
import MailCore
import MailStore
import SASL

/// Why an administrative operation did not happen. `invalid` and `unknownPlan` are the caller's
/// mistake (the CLI exits 2, the HTTP API answers 400); the rest are failures of the operation.
public enum AdministrationError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalid(String)
    case unknownPlan(String, known: [String])
    case notFound(String)
    case failed(String)

    init(_ error: StoreError) {
        switch error {
        case .notFound(let what): self = .notFound("\(what) not found")
        default: self = .failed("\(error)")
        }
    }

    public var description: String {
        switch self {
        case .invalid(let text), .notFound(let text), .failed(let text): text
        case .unknownPlan(let name, let known): "unknown plan \(name); plans: \(known.joined(separator: ", "))"
        }
    }

    /// Bad input rather than a failed operation.
    public var isUsageError: Bool {
        switch self {
        case .invalid, .unknownPlan: true
        case .notFound, .failed: false
        }
    }
}

/// Which DKIM keys a domain gets: RSA (2048 bits), Ed25519 (RFC 8463), or both as two signatures.
public enum DKIMKeyChoice: String, CaseIterable, Sendable {
    case rsa, ed25519, both
}

/// A user as `addUser` made it.
public struct AddedUser: Sendable, Equatable {
    public var address: String
    public var plan: String
    /// The password made for the user when none was given; shown once, stored only hashed.
    public var generatedPassword: String?

    public init(address: String, plan: String, generatedPassword: String?) {
        self.address = address
        self.plan = plan
        self.generatedPassword = generatedPassword
    }
}

/// Hosted domains with their DKIM keys, users with every credential form, API keys, plans,
/// aliases and quotas: what the CLI, the HTTP API and the dashboard change, in one place.
public struct Administration: Sendable {
    public typealias Store = DirectoryRepository & SigningKeyRepository & MailboxRepository & SuppressionRepository & SandboxRepository

    let store: any Store
    /// The MX host name the domain records point at.
    public let hostname: String
    /// The configured plans (`[plans.NAME]`).
    public let planNames: Set<String>
    /// `[auth] cram_md5`: keep CRAM-MD5's password-equivalent secret for new passwords.
    public let keepsCRAMSecrets: Bool
    let clock: @Sendable () -> Int

    public init(
        store: any Store, hostname: String, planNames: Set<String>, keepsCRAMSecrets: Bool,
        clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }
    ) {
        self.store = store
        self.hostname = hostname
        self.planNames = planNames
        self.keepsCRAMSecrets = keepsCRAMSecrets
        self.clock = clock
    }

    /// Runs a store call, its errors as `AdministrationError`.
    private func run<T>(_ body: () async throws(StoreError) -> T) async throws(AdministrationError) -> T {
        do {
            return try await body()
        } catch {
            throw AdministrationError(error)
        }
    }

    // MARK: - Input

    /// A user or alias address: an RFC 5321 mailbox in a domain name (no address literal).
    public static func address(_ text: String) throws(AdministrationError) -> String {
        guard let address = try? MailboxAddress(parsing: text, allowUTF8: true), address.domain.kind == .name else {
            throw .invalid("\(text) is not a valid address")
        }
        return address.normalized
    }

    /// A domain name, normalized.
    public static func domainName(_ text: String) throws(AdministrationError) -> String {
        guard let parsed = try? Domain(validating: text, allowUTF8: true), parsed.kind == .name else {
            throw .invalid("\(text) is not a valid domain name")
        }
        return parsed.normalized
    }

    private func checkPlan(_ plan: String) throws(AdministrationError) {
        guard planNames.contains(plan) else { throw .unknownPlan(plan, known: planNames.sorted()) }
    }

    private func hostedDomain(_ text: String) async throws(AdministrationError) -> String {
        let name = try Self.domainName(text)
        guard try await run({ () async throws(StoreError) in try await store.isHostedDomain(name) }) else {
            throw .notFound("\(name) is not a hosted domain (add it with `tern domain add \(name)`)")
        }
        return name
    }

    // MARK: - Domains

    /// Adds a hosted domain and makes its DKIM key(s); returns its normalized name.
    @discardableResult
    public func addDomain(_ text: String, dkim: DKIMKeyChoice = .rsa, selector: String? = nil) async throws(AdministrationError) -> String {
        let name = try Self.domainName(text)
        try await run { () async throws(StoreError) in try await store.addDomain(name) }
        try await makeKeys(dkim, domain: name, selector: selector)
        return name
    }

    public func domains() async throws(AdministrationError) -> [HostedDomain] {
        try await run { () async throws(StoreError) in try await store.listDomains() }
    }

    /// The records the domain should publish: MX, SPF, each DKIM key (retired ones marked), DMARC.
    public func records(domain text: String) async throws(AdministrationError) -> [DomainRecord] {
        let name = try await hostedDomain(text)
        let keys = try await run { () async throws(StoreError) in try await store.signingKeys(domain: name) }
        return DNSRecordSuggestions.records(domain: name, hostname: hostname, keys: keys)
    }

    /// A new signing key; the old ones stop signing but stay published (RFC 6376 §3.1 selectors).
    public func rotateDKIM(domain text: String, choice: DKIMKeyChoice = .rsa, selector: String? = nil) async throws(AdministrationError) {
        let name = try await hostedDomain(text)
        try await makeKeys(choice, domain: name, selector: selector)
    }

    public func dkimKeys(domain text: String) async throws(AdministrationError) -> [StoredSigningKey] {
        let name = try Self.domainName(text)
        return try await run { () async throws(StoreError) in try await store.signingKeys(domain: name) }
    }

    public func removeDKIMKey(domain text: String, selector: String) async throws(AdministrationError) {
        let name = try Self.domainName(text)
        guard try await run({ () async throws(StoreError) in try await store.removeSigningKey(domain: name, selector: selector) }) else {
            throw .notFound("\(name) has no DKIM key with selector \(selector)")
        }
    }

    /// Makes the domain's new DKIM key(s); the selector of the Ed25519 one of a pair ends in "e".
    private func makeKeys(_ choice: DKIMKeyChoice, domain: String, selector: String?) async throws(AdministrationError) {
        let existing = Set(try await run { () async throws(StoreError) in try await store.signingKeys(domain: domain) }.map(\.selector))
        let base = selector ?? DNSRecordSuggestions.defaultSelector(taken: existing.union(existing.map { String($0.dropLast()) }))
        var algorithms: [DKIMAlgorithm] = []
        if choice != .ed25519 { algorithms.append(.rsaSHA256) }
        if choice != .rsa { algorithms.append(.ed25519SHA256) }
        var made: [String] = []
        for algorithm in algorithms {
            let name = algorithm == .ed25519SHA256 && choice == .both ? base + "e" : base
            let key: DKIMSigningKey
            do {
                key = try DKIMSigningKey.generate(domain: domain, selector: name, algorithm: algorithm)
            } catch {
                throw .failed("cannot generate a DKIM key: \(error)")
            }
            let stored = StoredSigningKey(domain: domain, selector: name, algorithm: algorithm.rawValue, privateKey: key.storageText, createdAt: clock())
            try await run { () async throws(StoreError) in try await store.addSigningKey(stored) }
            made.append(name)
        }
        try await run { () async throws(StoreError) in try await store.retireSigningKeys(domain: domain, keeping: made) }
    }

    /// Delivers mail for unknown addresses of `domain` to `target`; nil removes the catch-all.
    public func setCatchAll(domain text: String, target: String?) async throws(AdministrationError) {
        let name = try Self.domainName(text)
        let normalized = try target.map { (text: String) throws(AdministrationError) in try Self.address(text) }
        try await run { () async throws(StoreError) in try await store.setCatchAll(domain: name, target: normalized) }
    }

    // MARK: - Users

    /// Adds a user on `plan` with `password`, or a generated one (returned, shown once).
    public func addUser(
        _ email: String, plan: String = "free", password: String? = nil, isOperator: Bool = false
    ) async throws(AdministrationError) -> AddedUser {
        let address = try Self.address(email)
        try checkPlan(plan)
        let secret = password ?? Self.randomPassword()
        let credentials = try await credentials(for: secret)
        let user = MailUser(
            address: address, passwordHash: credentials.hash, plan: plan, createdAt: clock(), scram: credentials.scram,
            cramSecret: credentials.cram, isOperator: isOperator)
        try await run { () async throws(StoreError) in try await store.addUser(user) }
        return AddedUser(address: address, plan: plan, generatedPassword: password == nil ? secret : nil)
    }

    /// Gives a user a new password: every stored form (scrypt, SCRAM keys, CRAM secret) is replaced.
    public func setPassword(_ email: String, password: String) async throws(AdministrationError) {
        let address = try Self.address(email)
        let credentials = try await credentials(for: password)
        try await run { () async throws(StoreError) in
            try await store.setCredentials(user: address, passwordHash: credentials.hash, scram: credentials.scram, cramSecret: credentials.cram)
        }
    }

    /// The stored forms of a password: an scrypt hash, SCRAM-SHA-256 keys (RFC 5802 §3, never
    /// the password), and CRAM-MD5's secret only when the operator chose to keep it (RFC 2195
    /// keys its HMAC with the password itself).
    private func credentials(for password: String) async throws(AdministrationError) -> (hash: String, scram: String, cram: String?) {
        guard !password.isEmpty else { throw .invalid("the password is empty") }
        guard password.utf8.count <= 1024, !password.contains("\0"), !password.contains("\n") else {
            throw .invalid("a password is at most 1024 bytes, without NUL or line breaks")
        }
        // scrypt and PBKDF2 take tens of milliseconds: never on the cooperative pool, where the
        // HTTP API and the dashboard will call this from.
        let keep = keepsCRAMSecrets
        let derived = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Self.derive(password, keepingCRAMSecret: keep))
            }
        }
        return try derived.get()
    }

    private static func derive(
        _ password: String, keepingCRAMSecret: Bool
    ) -> Result<(hash: String, scram: String, cram: String?), AdministrationError> {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        do {
            let hash = try PasswordHash.make(password)
            let scram = try SCRAMCredentials.derive(password: password, salt: salt).encoded
            return .success((hash, scram, keepingCRAMSecret ? password : nil))
        } catch {
            return .failure(.failed("cannot derive the password's stored forms: \(error)"))
        }
    }

    public func users() async throws(AdministrationError) -> [MailUser] {
        try await run { () async throws(StoreError) in try await store.listUsers() }
    }

    public func user(_ email: String) async throws(AdministrationError) -> MailUser {
        let address = try Self.address(email)
        guard let user = try await run({ () async throws(StoreError) in try await store.user(address) }) else {
            throw .notFound("user \(address) not found")
        }
        return user
    }

    public func removeUser(_ email: String) async throws(AdministrationError) {
        let address = try Self.address(email)
        try await run { () async throws(StoreError) in try await store.removeUser(address) }
    }

    /// A user's mailbox: bytes used and its quota (nil: none).
    public func mailboxUsage(_ email: String) throws(AdministrationError) -> (bytes: Int, quota: Int?) {
        let address = try Self.address(email)
        do {
            return try store.usage(user: address)
        } catch {
            throw AdministrationError(error)
        }
    }

    /// Makes a user an operator (the whole server in the dashboard), or no longer one.
    public func setOperator(_ email: String, _ isOperator: Bool) async throws(AdministrationError) {
        let address = try Self.address(email)
        try await run { () async throws(StoreError) in try await store.setOperator(user: address, isOperator) }
    }

    public func setPlan(_ email: String, plan: String) async throws(AdministrationError) {
        let address = try Self.address(email)
        try checkPlan(plan)
        try await run { () async throws(StoreError) in try await store.setPlan(user: address, plan: plan) }
    }

    /// Lets a user send as addresses of another domain (MAIL FROM and From:), besides its own.
    public func allowSendingDomain(_ email: String, domain: String) async throws(AdministrationError) {
        let address = try Self.address(email)
        let name = try Self.domainName(domain)
        try await run { () async throws(StoreError) in try await store.allowSendingDomain(user: address, domain: name) }
    }

    /// Limits a user's mailboxes to `bytes`; nil removes the limit.
    public func setQuota(_ email: String, bytes: Int?) async throws(AdministrationError) {
        let address = try Self.address(email)
        if let bytes, bytes < 0 { throw .invalid("a quota is not negative") }
        try await run { () async throws(StoreError) in try await store.setQuota(user: address, bytes: bytes) }
    }

    // MARK: - API keys

    /// Live keys one user may have (SendGrid's limit too): each is a row read on every request.
    public static let maximumAPIKeys = 100

    /// Makes an API key for a user; returns its text, the only time it exists outside the
    /// client (only SHA-256 of its secret is stored), and its row.
    public func createAPIKey(for email: String, name: String = "", scopes: Set<APIScope> = [.full], sandbox: Bool = false)
        async throws(AdministrationError) -> (text: String, record: APIKeyRecord)
    {
        let address = try Self.address(email)
        guard !scopes.isEmpty else { throw .invalid("a key needs at least one scope") }
        guard name.utf8.count <= 100 else { throw .invalid("a key's name is at most 100 bytes") }
        let live = try await run { () async throws(StoreError) in try await store.listAPIKeys(user: address) }.filter { $0.revokedAt == nil }
        guard live.count < Self.maximumAPIKeys else { throw .invalid("\(address) has \(Self.maximumAPIKeys) keys; revoke one first") }
        let key = APIKey.generate()
        let record = APIKeyRecord(
            id: key.id, user: address, name: name, secretHash: key.secretHash, createdAt: clock(), scopes: scopes, sandbox: sandbox)
        try await run { () async throws(StoreError) in try await store.addAPIKey(record) }
        return (key.text, record)
    }

    /// Renames a live key and/or replaces its scopes.
    public func updateAPIKey(id: String, name: String?, scopes: Set<APIScope>?) async throws(AdministrationError) {
        if let scopes, scopes.isEmpty { throw .invalid("a key needs at least one scope") }
        if let name, name.utf8.count > 100 { throw .invalid("a key's name is at most 100 bytes") }
        guard try await run({ () async throws(StoreError) in try await store.updateAPIKey(id: id, name: name, scopes: scopes) }) else {
            throw .notFound("no active key \(id)")
        }
    }

    public func apiKeys(of email: String) async throws(AdministrationError) -> [APIKeyRecord] {
        let address = try Self.address(email)
        return try await run { () async throws(StoreError) in try await store.listAPIKeys(user: address) }
    }

    public func revokeAPIKey(id: String) async throws(AdministrationError) {
        let now = clock()
        guard try await run({ () async throws(StoreError) in try await store.revokeAPIKey(id: id, at: now) }) else {
            throw .notFound("no active key \(id)")
        }
    }

    // MARK: - Sandbox

    /// Makes every message of `email` (over SMTP and HTTP) go to its sandbox inbox, or not.
    public func setSandboxed(_ email: String, _ sandboxed: Bool) async throws(AdministrationError) {
        let address = try Self.address(email)
        try await run { () async throws(StoreError) in try await store.setSandboxed(user: address, sandboxed) }
    }

    public func sandboxMessages(of email: String, limit: Int = sandboxInboxSize) async throws(AdministrationError) -> [SandboxMessage] {
        let address = try Self.address(email)
        return try await run { () async throws(StoreError) in try await store.sandboxMessages(account: address, limit: limit) }
    }

    public func sandboxContent(of email: String, id: String) async throws(AdministrationError) -> [UInt8] {
        let address = try Self.address(email)
        guard let content = try await run({ () async throws(StoreError) in try await store.sandboxContent(account: address, id: id) }) else {
            throw .notFound("\(address) has no sandbox message \(id)")
        }
        return content
    }

    // MARK: - Suppressions

    /// The entries of one of an account's lists (`.group` with `group`), newest first.
    public func suppressions(of email: String, list: SuppressionList, group: Int = 0) async throws(AdministrationError) -> [Suppression] {
        let account = try Self.address(email)
        return try await run { () async throws(StoreError) in
            try await store.suppressions(account: account, list: list, groupID: group, email: nil, from: nil, to: nil, limit: 100_000, offset: 0)
        }
    }

    /// The account's unsubscribe groups (`/v3/asm/groups`), in id order.
    public func suppressionGroups(of email: String) async throws(AdministrationError) -> [SuppressionGroup] {
        let account = try Self.address(email)
        return try await run { () async throws(StoreError) in try await store.groups(account: account) }
    }

    /// Puts `address` on a list of `account` (mail to it is then dropped, blocks excepted).
    public func suppress(_ address: String, for email: String, list: SuppressionList, group: Int = 0) async throws(AdministrationError) -> String {
        let account = try Self.address(email)
        guard (try? MailboxAddress(parsing: address, allowUTF8: true)) != nil else { throw .invalid("\(address) is not a valid address") }
        if list == .group, group <= 0 { throw .invalid("a group entry needs --group ID") }
        let entry = Suppression(account: account, list: list, groupID: list == .group ? group : 0, email: address, createdAt: clock(), reason: "added by an administrator")
        try await run { () async throws(StoreError) in try await store.addSuppressions([entry]) }
        return entry.email
    }

    /// Takes `address` off a list of `account`.
    public func unsuppress(_ address: String, for email: String, list: SuppressionList, group: Int = 0) async throws(AdministrationError) {
        let account = try Self.address(email)
        let removed = try await run { () async throws(StoreError) in
            try await store.removeSuppressions(account: account, list: list, groupID: list == .group ? group : 0, emails: [address])
        }
        guard removed > 0 else { throw .notFound("\(address) is not on \(account)'s \(list.rawValue) list") }
    }

    // MARK: - Aliases

    /// Makes `alias` deliver to each target (hosted users or outside addresses).
    public func addAlias(_ alias: String, targets: [String]) async throws(AdministrationError) -> (alias: String, targets: [String]) {
        let address = try Self.address(alias)
        guard !targets.isEmpty else { throw .invalid("give at least one target") }
        var normalized: [String] = []
        for target in targets { normalized.append(try Self.address(target)) }
        try await run { () async throws(StoreError) in try await store.addAlias(address, targets: normalized) }
        return (address, normalized)
    }

    public func aliases() async throws(AdministrationError) -> [(address: String, targets: [String])] {
        try await run { () async throws(StoreError) in try await store.aliases() }
    }

    public func removeAlias(_ alias: String) async throws(AdministrationError) {
        let address = try Self.address(alias)
        guard try await run({ () async throws(StoreError) in try await store.removeAlias(address) }) else {
            throw .notFound("no alias \(address)")
        }
    }

    /// 20 characters from a 62-letter alphabet: about 119 bits.
    public static func randomPassword() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
