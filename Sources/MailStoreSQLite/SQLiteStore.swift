import Foundation
import GRDB
import MailCore
import MailStore

/// The embedded default store: one SQLite database in WAL mode with `synchronous=FULL`, so a
/// committed transaction is on stable storage. Several processes (the server and admin commands)
/// may open it at once.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    let spool: GroupCommitSpool
    let path: String
    /// `user+tag@domain` reaches `user@domain` (RFC 5233 sub-addressing); "" turns it off.
    public let subaddressSeparator: String

    public init(path: String, subaddressSeparator: String = "+") throws(StoreError) {
        self.subaddressSeparator = subaddressSeparator
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL commits are durable only with FULL (NORMAL may lose the last transactions on
            // power loss), and the queue must never lose a message it answered 250 for.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Checkpoints run beside the writer (see `WALCheckpointer`), never inside a commit
            // that sessions are waiting for.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB turns WAL on for the writer *after* prepareDatabase and sets synchronous =
            // NORMAL while doing it, which syncs only at checkpoints: a power loss could take
            // commits that were already answered 250. Set FULL again on the writer itself.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.storeError(error)
        }
        spool = GroupCommitSpool(pool: pool)
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL), for the durability test.
    public func writerSynchronousMode() throws(StoreError) -> Int {
        do {
            return try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Starts checkpointing the WAL in the background; the server calls this, admin commands
    /// do not (SQLite checkpoints when the last connection closes).
    public func startBackgroundCheckpoints(interval: Double = 0.25) throws(StoreError) -> WALCheckpointer {
        do {
            return try WALCheckpointer(path: path, spool: spool, interval: interval)
        } catch {
            throw Self.storeError(error)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE domains(
                        name TEXT PRIMARY KEY COLLATE NOCASE,
                        created_at INTEGER NOT NULL);
                    CREATE TABLE users(
                        address TEXT PRIMARY KEY COLLATE NOCASE,
                        domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
                        password_hash TEXT NOT NULL,
                        plan TEXT NOT NULL,
                        created_at INTEGER NOT NULL);
                    CREATE TABLE messages(
                        id TEXT PRIMARY KEY,
                        message_id TEXT,
                        reverse_path TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        client_address TEXT,
                        helo TEXT,
                        dsn_ret TEXT,
                        envid TEXT,
                        body_type TEXT,
                        smtputf8 INTEGER NOT NULL DEFAULT 0,
                        content BLOB NOT NULL);
                    CREATE TABLE recipients(
                        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        address TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_reply TEXT,
                        notify TEXT,
                        orcpt TEXT,
                        next_attempt_at INTEGER,
                        PRIMARY KEY(message_id, position));
                    CREATE INDEX recipients_due ON recipients(state, next_attempt_at);
                    """)
        }
        migrator.registerMigration("v2-scram") { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN scram TEXT")
        }
        migrator.registerMigration("v3-api-keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_keys(
                        id TEXT PRIMARY KEY,
                        user TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        secret_hash TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER);
                    CREATE INDEX api_keys_user ON api_keys(user);
                    """)
        }
        migrator.registerMigration("v4-sending-domains") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sending_domains(
                        user TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
                        domain TEXT NOT NULL COLLATE NOCASE,
                        PRIMARY KEY(user, domain)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v5-usage") { db in
            try db.execute(
                sql: """
                    CREATE TABLE usage(
                        user TEXT NOT NULL,
                        period TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY(user, period)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v6-auth-identity") { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN cram_secret TEXT")
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN auth_account TEXT")
        }
        migrator.registerMigration("v7-delivery") { db in
            try db.execute(
                sql: """
                    ALTER TABLE recipients ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE events(
                        id INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        message_id TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        type TEXT NOT NULL,
                        mx_host TEXT,
                        tls TEXT,
                        reply TEXT);
                    CREATE INDEX events_message ON events(message_id);
                    """)
        }
        migrator.registerMigration("v8-mail-auth") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN quarantine TEXT;
                    CREATE TABLE signing_keys(
                        domain TEXT NOT NULL COLLATE NOCASE REFERENCES domains(name) ON DELETE CASCADE,
                        selector TEXT NOT NULL,
                        algorithm TEXT NOT NULL,
                        private_key TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        PRIMARY KEY(domain, selector)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v9-mailboxes") { db in
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN quota_bytes INTEGER;
                    CREATE TABLE mailboxes(
                        id INTEGER PRIMARY KEY,
                        user TEXT NOT NULL COLLATE NOCASE REFERENCES users(address) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        uidvalidity INTEGER NOT NULL,
                        uidnext INTEGER NOT NULL DEFAULT 1,
                        highest_modseq INTEGER NOT NULL DEFAULT 1,
                        UNIQUE(user, name));
                    CREATE TABLE mailbox_messages(
                        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
                        uid INTEGER NOT NULL,
                        message_id TEXT NOT NULL REFERENCES messages(id),
                        prefix BLOB NOT NULL,
                        size INTEGER NOT NULL,
                        internal_date INTEGER NOT NULL,
                        flags TEXT NOT NULL DEFAULT '',
                        modseq INTEGER NOT NULL,
                        delivery TEXT,
                        PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
                    CREATE UNIQUE INDEX mailbox_messages_delivery ON mailbox_messages(delivery);
                    CREATE INDEX mailbox_messages_message ON mailbox_messages(message_id);
                    CREATE TABLE aliases(
                        address TEXT NOT NULL COLLATE NOCASE,
                        target TEXT NOT NULL,
                        PRIMARY KEY(address, target)) WITHOUT ROWID;
                    CREATE TABLE catch_alls(
                        domain TEXT PRIMARY KEY COLLATE NOCASE REFERENCES domains(name) ON DELETE CASCADE,
                        target TEXT NOT NULL);
                    """)
            // Users made before mailboxes get their folders now.
            for user in try String.fetchAll(db, sql: "SELECT address FROM users") {
                try Self.createFolders(db, user: user)
            }
        }
        migrator.registerMigration("v10-mailbox-usage") { db in
            // A running total, so a quota check is one indexed read, not a sum over the mailbox.
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
                    UPDATE users SET used_bytes = (
                        SELECT COALESCE(SUM(mm.size), 0) FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id
                        WHERE m.user = users.address);
                    """)
        }
        return migrator
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_FULL: return .full
            case .SQLITE_CONSTRAINT: return .alreadyExists(db.message ?? "row")
            default: return .failure(db.message ?? "\(db.resultCode)")
            }
        }
        return .failure("\(error)")
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A write that need not reach the disk before it returns: SQLite's WAL keeps commits in
    /// order, so the next synced commit makes it durable, and a power loss can only roll it
    /// back to an earlier state. Used for what the queue can redo: leases (an unrecorded lease
    /// is just due again) and delivery outcomes (an unrecorded 250 means a duplicate after a
    /// power loss, never a loss; a process crash loses nothing either way). Saves an fsync that
    /// would otherwise hold up the accept path's group commit on the single writer.
    func writeUnsynced<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute()
                defer { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }
}

extension SQLiteStore: DirectoryRepository {
    public func addDomain(_ name: String) async throws(StoreError) {
        let now = MessageDate.nowUnixSeconds()
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [name]) == true {
                throw StoreError.alreadyExists("domain \(name)")
            }
            try db.execute(sql: "INSERT INTO domains(name, created_at) VALUES (?, ?)", arguments: [name.lowercased(), now])
        }
    }

    public func listDomains() async throws(StoreError) -> [HostedDomain] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT name, created_at FROM domains ORDER BY name").map {
                HostedDomain(name: $0["name"], createdAt: $0["created_at"])
            }
        }
    }

    public func isHostedDomain(_ name: String) async throws(StoreError) -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [name]) == true
        }
    }

    public func addUser(_ user: MailUser) async throws(StoreError) {
        guard let at = user.address.lastIndex(of: "@") else { throw .invalid("address has no domain") }
        let domain = String(user.address[user.address.index(after: at)...])
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [domain]) == true else {
                throw StoreError.notFound("domain \(domain) (add it with `tern domain add \(domain)`)")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE address = ?", arguments: [user.address]) == true {
                throw StoreError.alreadyExists("user \(user.address)")
            }
            try db.execute(
                sql: """
                    INSERT INTO users(address, domain, password_hash, plan, created_at, scram, cram_secret)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [user.address, domain.lowercased(), user.passwordHash, user.plan, user.createdAt, user.scram, user.cramSecret])
            try Self.createFolders(db, user: user.address)
        }
    }

    public func listUsers() async throws(StoreError) -> [MailUser] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY domain, address").map(Self.user(from:))
        }
    }

    public func user(_ address: String) async throws(StoreError) -> MailUser? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE address = ?", arguments: [address]).map(Self.user(from:))
        }
    }

    public func removeUser(_ address: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM users WHERE address = ?", arguments: [address])
            if db.changesCount == 0 { throw StoreError.notFound("user \(address)") }
        }
    }

    public func recipientStatus(domain: String, address: String) throws(StoreError) -> RecipientStatus {
        do {
            return try pool.read { db in
                guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM domains WHERE name = ?"), arguments: [domain]) == true else {
                    return .notHosted
                }
                switch try self.resolveLocal(db, address) {
                case .mailbox(let user, let overQuota):
                    if overQuota { return .overQuota }
                    let quota = try Int.fetchOne(db.cachedStatement(sql: "SELECT quota_bytes FROM users WHERE address = ?"), arguments: [user])
                    return quota == nil ? .exists : .existsWithQuota
                case .expand: return .exists
                case .unknown: return .unknownUser
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func credentials(_ address: String) throws(StoreError) -> StoredCredentials? {
        do {
            return try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT address, password_hash, scram, cram_secret FROM users WHERE address = ?", arguments: [address])
                    .map {
                        StoredCredentials(address: $0["address"], passwordHash: $0["password_hash"], scram: $0["scram"], cramSecret: $0["cram_secret"])
                    }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func addAPIKey(_ key: APIKeyRecord) async throws(StoreError) {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE address = ?", arguments: [key.user]) == true else {
                throw StoreError.notFound("user \(key.user)")
            }
            try db.execute(
                sql: "INSERT INTO api_keys(id, user, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [key.id, key.user, key.name, key.secretHash, key.createdAt])
        }
    }

    public func listAPIKeys(user: String) async throws(StoreError) -> [APIKeyRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE user = ? ORDER BY created_at, id", arguments: [user]).map(Self.apiKey(from:))
        }
    }

    public func revokeAPIKey(id: String, at time: Int) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [time, id])
            return db.changesCount > 0
        }
    }

    public func apiKey(id: String) throws(StoreError) -> APIKeyRecord? {
        do {
            return try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]).map(Self.apiKey(from:))
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func allowSendingDomain(user: String, domain: String) async throws(StoreError) {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE address = ?", arguments: [user]) == true else {
                throw StoreError.notFound("user \(user)")
            }
            try db.execute(sql: "INSERT OR IGNORE INTO sending_domains(user, domain) VALUES (?, ?)", arguments: [user, domain.lowercased()])
        }
    }

    public func sendingDomains(user: String) throws(StoreError) -> [String] {
        do {
            return try pool.read { db in
                guard let own = try String.fetchOne(db, sql: "SELECT domain FROM users WHERE address = ?", arguments: [user]) else {
                    return []
                }
                let extra = try String.fetchAll(db, sql: "SELECT domain FROM sending_domains WHERE user = ? ORDER BY domain", arguments: [user])
                return [own] + extra.filter { $0 != own }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func plan(user: String) throws(StoreError) -> String? {
        do {
            return try pool.read { db in try String.fetchOne(db, sql: "SELECT plan FROM users WHERE address = ?", arguments: [user]) }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func setPlan(user: String, plan: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE users SET plan = ? WHERE address = ?", arguments: [plan, user])
            if db.changesCount == 0 { throw StoreError.notFound("user \(user)") }
        }
    }

    public func usage(user: String, periods: [String]) throws(StoreError) -> [String: Int] {
        do {
            return try pool.read { db in
                var result: [String: Int] = [:]
                for period in periods {
                    let statement = try db.cachedStatement(sql: "SELECT count FROM usage WHERE user = ? AND period = ?")
                    result[period] = try Int.fetchOne(statement, arguments: [user, period]) ?? 0
                }
                return result
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    static func apiKey(from row: Row) -> APIKeyRecord {
        APIKeyRecord(
            id: row["id"], user: row["user"], name: row["name"], secretHash: row["secret_hash"], createdAt: row["created_at"],
            revokedAt: row["revoked_at"])
    }

    static func user(from row: Row) -> MailUser {
        MailUser(
            address: row["address"], passwordHash: row["password_hash"], plan: row["plan"], createdAt: row["created_at"], scram: row["scram"])
    }
}
