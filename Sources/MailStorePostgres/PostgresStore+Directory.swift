import Logging
import MailStore
import PostgresNIO

/// Domains and users (the asynchronous part of `DirectoryRepository`; the synchronous reads the
/// SMTP accept path makes come with the conversion of those reads to async, the next step of
/// issue 17).
extension PostgresStore {
    public func addDomain(_ name: String) async throws(StoreError) {
        let now = Self.now()
        let inserted = try await rows("INSERT INTO domains(name, created_at) VALUES (\(name.lowercased()), \(now)) ON CONFLICT DO NOTHING RETURNING 1")
        guard !inserted.isEmpty else { throw .alreadyExists("domain \(name)") }
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
