import Logging
import MailStore
import PostgresNIO

/// Domains, users and API keys. The synchronous reads (RCPT, AUTH, the sender's domains, the
/// plan) answer from `DirectorySnapshot`; a write reloads it at once on this node, and the
/// others reload on the notification the triggers send.
extension PostgresStore {
    public func addDomain(_ name: String) async throws(StoreError) {
        let now = Self.now()
        let inserted = try await rows("INSERT INTO domains(name, created_at) VALUES (\(name.lowercased()), \(now)) ON CONFLICT DO NOTHING RETURNING 1")
        guard !inserted.isEmpty else { throw .alreadyExists("domain \(name)") }
        if followsDirectory { try await refreshDirectory() }
    }

    public func listDomains() async throws(StoreError) -> [HostedDomain] {
        // `ORDER BY` over the case-insensitive collation sorts as SQLite's NOCASE does for ASCII.
        try await decoded("SELECT name, created_at FROM domains ORDER BY name") { row in
            let (name, createdAt) = try row.decode((String, Int64).self)
            return HostedDomain(name: name, createdAt: Int(createdAt))
        }
    }

    public func isHostedDomain(_ name: String) async throws(StoreError) -> Bool {
        try await !rows("SELECT 1 FROM domains WHERE name = \(name)").isEmpty
    }

    public func addUser(_ user: MailUser) async throws(StoreError) {
        guard let at = user.address.lastIndex(of: "@") else { throw .invalid("address has no domain") }
        let domain = String(user.address[user.address.index(after: at)...])
        try await transaction { connection in
            guard try await connection.query("SELECT 1 FROM domains WHERE name = \(domain)", logger: self.logger).collect().count == 1 else {
                throw StoreError.notFound("domain \(domain) (add it with `tern domain add \(domain)`)")
            }
            let inserted = try await connection.query(
                """
                INSERT INTO users(address, domain, password_hash, plan, created_at, scram, cram_secret, is_operator)
                VALUES (\(user.address), \(domain.lowercased()), \(user.passwordHash), \(user.plan), \(Int64(user.createdAt)), \(user.scram),
                        \(user.cramSecret), \(user.isOperator))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: self.logger
            ).collect()
            guard inserted.count == 1 else { throw StoreError.alreadyExists("user \(user.address)") }
            try await Self.createFolders(connection, account: user.address, logger: self.logger)
        }
        if followsDirectory { try await refreshDirectory() }
    }

    public func listUsers() async throws(StoreError) -> [MailUser] {
        try await decoded("SELECT \(unescaped: Self.userColumns) FROM users ORDER BY domain, address", Self.user(from:))
    }

    public func user(_ address: String) async throws(StoreError) -> MailUser? {
        try await decoded("SELECT \(unescaped: Self.userColumns) FROM users WHERE address = \(address)", Self.user(from:)).first
    }

    static let userColumns = "address, password_hash, plan, created_at, scram, cram_secret, is_operator"

    static func user(from row: PostgresRow) throws -> MailUser {
        let (address, passwordHash, plan, createdAt, scram, cram, isOperator) = try row.decode((String, String, String, Int64, String?, String?, Bool).self)
        return MailUser(
            address: address, passwordHash: passwordHash, plan: plan, createdAt: Int(createdAt), scram: scram, cramSecret: cram, isOperator: isOperator)
    }

    /// A new user's default folders (INBOX, Sent, …), subscribed, as SQLite's store makes them.
    static func createFolders(_ connection: PostgresConnection, account: String, logger: Logger) async throws {
        let now = Int64(Self.now())
        for name in Mailbox.defaultNames {
            try await connection.query(
                "INSERT INTO mailboxes(account, name, uidvalidity) VALUES (\(account), \(name), \(now)) ON CONFLICT DO NOTHING", logger: logger)
            try await connection.query(
                "INSERT INTO mailbox_subscriptions(account, name) VALUES (\(account), \(name)) ON CONFLICT DO NOTHING", logger: logger)
        }
    }
}

extension PostgresStore: DirectoryRepository {
    public func removeUser(_ address: String) async throws(StoreError) {
        try await transaction { connection in
            var held: [String] = []
            for try await id in try await connection.query(
                """
                SELECT DISTINCT mm.message_id FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id WHERE m.account = \(address)
                """, logger: self.logger
            ).decode(String.self) {
                held.append(id)
            }
            let removed = try await connection.query("DELETE FROM users WHERE address = \(address) RETURNING 1", logger: self.logger).collect()
            guard removed.count == 1 else { throw StoreError.notFound("user \(address)") }
            // The user's mailboxes went with the row (ON DELETE CASCADE); so does content only they held.
            let now = Self.now()
            for id in held { try await Self.deleteContentIfUnreferenced(connection, messageID: id, at: now, logger: self.logger) }
        }
        try await refreshDirectory()
    }

    public func recipientStatus(domain: String, address: String) throws(StoreError) -> RecipientStatus {
        let separator = subaddressSeparator
        return try fromSnapshot { $0.recipientStatus(domain: domain, address: address, subaddressSeparator: separator) }
    }

    public func credentials(_ address: String) throws(StoreError) -> StoredCredentials? {
        try fromSnapshot { snapshot in
            snapshot.users[address.lowercased()].map {
                StoredCredentials(address: $0.address, passwordHash: $0.passwordHash, scram: $0.scram, cramSecret: $0.cramSecret)
            }
        }
    }

    public func addAPIKey(_ key: APIKeyRecord) async throws(StoreError) {
        let inserted = try await rows(
            """
            INSERT INTO api_keys(id, account, name, secret_hash, created_at, scopes, sandbox)
            SELECT \(key.id), address, \(key.name), \(key.secretHash), \(Int64(key.createdAt)), \(key.scopes.stored), \(key.sandbox)
            FROM users WHERE address = \(key.user) RETURNING 1
            """)
        guard !inserted.isEmpty else { throw .notFound("user \(key.user)") }
        try await refreshDirectory()
    }

    public func listAPIKeys(user: String) async throws(StoreError) -> [APIKeyRecord] {
        try await decoded("SELECT \(unescaped: Self.apiKeyColumns) FROM api_keys WHERE account = \(user) ORDER BY created_at, id", Self.apiKey(from:))
    }

    public func revokeAPIKey(id: String, at time: Int) async throws(StoreError) -> Bool {
        let changed = try await !rows("UPDATE api_keys SET revoked_at = \(Int64(time)) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1").isEmpty
        // This node answers from the snapshot at once; the others on the notification.
        if changed { try await refreshDirectory() }
        return changed
    }

    public func updateAPIKey(id: String, name: String?, scopes: Set<APIScope>?) async throws(StoreError) -> Bool {
        let changed = try await !rows(
            """
            UPDATE api_keys SET name = COALESCE(\(name), name), scopes = COALESCE(\(scopes?.stored), scopes)
            WHERE id = \(id) AND revoked_at IS NULL RETURNING 1
            """
        ).isEmpty
        if changed { try await refreshDirectory() }
        return changed
    }

    public func apiKey(id: String) throws(StoreError) -> APIKeyRecord? {
        try fromSnapshot { $0.apiKeys[id] }
    }

    public func recordAPIKeyUse(id: String, at: Int) async throws(StoreError) {
        try await rows(
            "UPDATE api_keys SET last_used_at = \(Int64(at)) WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < \(Int64(at)))")
    }

    public func allowSendingDomain(user: String, domain: String) async throws(StoreError) {
        let known = try await rows("SELECT 1 FROM users WHERE address = \(user)")
        guard !known.isEmpty else { throw .notFound("user \(user)") }
        try await rows("INSERT INTO sending_domains(account, domain) VALUES (\(user), \(domain.lowercased())) ON CONFLICT DO NOTHING")
        try await refreshDirectory()
    }

    public func sendingDomains(user: String) throws(StoreError) -> [String] {
        try fromSnapshot { snapshot in
            guard let own = snapshot.users[user.lowercased()]?.domain else { return [] }
            return [own] + (snapshot.sendingDomains[user.lowercased()] ?? []).filter { $0 != own }
        }
    }

    public func plan(user: String) throws(StoreError) -> String? {
        try fromSnapshot { $0.users[user.lowercased()]?.plan }
    }

    public func setPlan(user: String, plan: String) async throws(StoreError) {
        try await updateUser("UPDATE users SET plan = \(plan) WHERE address = \(user) RETURNING 1", user)
    }

    public func setOperator(user: String, _ isOperator: Bool) async throws(StoreError) {
        try await updateUser("UPDATE users SET is_operator = \(isOperator) WHERE address = \(user) RETURNING 1", user)
    }

    public func setCredentials(user: String, passwordHash: String, scram: String?, cramSecret: String?) async throws(StoreError) {
        try await updateUser(
            "UPDATE users SET password_hash = \(passwordHash), scram = \(scram), cram_secret = \(cramSecret) WHERE address = \(user) RETURNING 1", user)
    }

    public func usage(user: String, periods: [String]) throws(StoreError) -> [String: Int] {
        try fromSnapshot { snapshot in
            let counted = snapshot.usage[user.lowercased()] ?? [:]
            return Dictionary(uniqueKeysWithValues: periods.map { ($0, counted[$0] ?? 0) })
        }
    }

    /// An update of one user's row: not found when there is no such user; the snapshot is
    /// reloaded so this node's next synchronous read sees the change.
    private func updateUser(_ query: PostgresQuery, _ user: String) async throws(StoreError) {
        guard try await !rows(query).isEmpty else { throw .notFound("user \(user)") }
        try await refreshDirectory()
    }
}
