import Logging
import MailStore
import PostgresNIO

/// Keeping `DirectorySnapshot` current: a full load at start and on every `tern_directory`
/// notification (any node's change), a reload when the listening connection comes back (what
/// changed meanwhile), counters every second, everything every minute.
extension PostgresStore {
    static let directoryChannel = "tern_directory"
    static let counterInterval: Duration = .seconds(1)
    static let fullReloadInterval = 60

    /// Loads the directory tables (bounded by the directory's size: domains, users, keys) in one
    /// repeatable-read transaction, so they agree with each other and with the version read.
    public func refreshDirectory() async throws(StoreError) {
        let since = snapshot.withLock { $0?.noteCount ?? 0 }
        var fresh = try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
            return try await Self.loadDirectory(connection, logger: self.logger)
        }
        let counters = try await loadCounters()
        fresh.usage = counters.usage
        snapshot.withLock { current in
            guard fresh.version >= (current?.version ?? -1) else { return }
            fresh.usedBytes = current?.keepingNewerNotes(in: counters.usedBytes, since: since) ?? counters.usedBytes
            fresh.noteCount = current?.noteCount ?? 0
            fresh.notedAt = current?.notedAt ?? [:]
            current = fresh
        }
    }

    static func loadDirectory(_ connection: PostgresConnection, logger: Logger) async throws -> DirectorySnapshot {
        func all<T>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws -> [T] {
            var out: [T] = []
            for try await row in try await connection.query(query, logger: logger) { out.append(try decode(row)) }
            return out
        }
        var fresh = DirectorySnapshot()
        fresh.version = try await all("SELECT version FROM directory_version") { try $0.decode(Int64.self) }.first ?? 0
        for name in try await all("SELECT name FROM domains", { try $0.decode(String.self) }) { fresh.domains.insert(name.lowercased()) }
        let users = try await all(
            """
            SELECT address, domain, password_hash, scram, cram_secret, plan, quota_bytes, created_at, sandbox, tracking_settings FROM users
            ORDER BY created_at, address
            """
        ) { row in
            let (address, domain, hash, scram, cram, plan, quota, createdAt, sandbox, tracking) = try row.decode(
                (String, String, String, String?, String?, String, Int64?, Int64, Bool, String?).self)
            return DirectorySnapshot.User(
                address: address, domain: domain, passwordHash: hash, scram: scram, cramSecret: cram, plan: plan, quota: quota.map(Int.init),
                createdAt: Int(createdAt), sandbox: sandbox, trackingSettings: tracking)
        }
        for user in users { fresh.users[user.address.lowercased()] = user }
        fresh.firstUser = users.first?.address
        for (address, target) in try await all("SELECT address, target FROM aliases ORDER BY address, target", { try $0.decode((String, String).self) }) {
            fresh.aliases[address.lowercased(), default: []].append(target)
        }
        for (domain, target) in try await all("SELECT domain, target FROM catch_alls", { try $0.decode((String, String).self) }) {
            fresh.catchAlls[domain.lowercased()] = target
        }
        for (account, domain) in try await all(
            "SELECT account, domain FROM sending_domains ORDER BY account, domain", { try $0.decode((String, String).self) })
        {
            fresh.sendingDomains[account.lowercased(), default: []].append(domain)
        }
        for key in try await all("SELECT \(unescaped: apiKeyColumns) FROM api_keys", apiKey(from:)) { fresh.apiKeys[key.id] = key }
        for key in try await all(
            "SELECT domain, selector, algorithm, private_key, created_at, state FROM signing_keys ORDER BY created_at, selector", signingKey(from:))
        {
            fresh.signingKeys[key.domain.lowercased(), default: []].append(key)
        }
        return fresh
    }

    /// Plan usage and mailbox bytes, which change with every message.
    func refreshCounters() async throws(StoreError) {
        let since = snapshot.withLock { $0?.noteCount ?? 0 }
        let counters = try await loadCounters()
        snapshot.withLock { current in
            guard let merged = current?.keepingNewerNotes(in: counters.usedBytes, since: since) else { return }
            current?.usage = counters.usage
            current?.usedBytes = merged
        }
    }

    private func loadCounters() async throws(StoreError) -> (usage: [String: [String: Int]], usedBytes: [String: Int]) {
        var usage: [String: [String: Int]] = [:]
        for (account, period, count) in try await decoded("SELECT account, period, count FROM usage", { try $0.decode((String, String, Int64).self) }) {
            usage[account.lowercased(), default: [:]][period] = Int(count)
        }
        var usedBytes: [String: Int] = [:]
        for (address, bytes) in try await decoded("SELECT address, used_bytes FROM users WHERE used_bytes > 0", { try $0.decode((String, Int64).self) }) {
            usedBytes[address.lowercased()] = Int(bytes)
        }
        return (usage, usedBytes)
    }

    /// LISTENs on one connection of its own for the three channels nodes speak on: directory
    /// changes (reload the snapshot), mailbox changes (wake IDLE sessions) and new work in the
    /// queue (wake the scheduler). After a lost connection it listens again and reloads the
    /// directory; sessions and the scheduler also look on their own timers, so what was said
    /// meanwhile is found late, never lost.
    func followNotifications() async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.directoryChannel) { directory in
                        try await connection.listen(on: Self.mailboxChannel) { mailbox in
                            try await connection.listen(on: Self.queueChannel) { queue in
                                try? await self.refreshDirectory()
                                try await withThrowingDiscardingTaskGroup { group in
                                    group.addTask { for try await _ in directory { try? await self.refreshDirectory() } }
                                    group.addTask { for try await notification in mailbox { self.mailboxNotification(notification.payload) } }
                                    group.addTask { for try await _ in queue { self.queueNotification() } }
                                }
                            }
                        }
                    }
                }
            } catch {
                logger.warning("notifications from the database interrupted: \(Self.describe(error))")
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func refreshPeriodically() async {
        var ticks = 0
        while !Task.isCancelled {
            do { try await Task.sleep(for: Self.counterInterval) } catch { return }
            ticks += 1
            if ticks % Self.fullReloadInterval == 0 { try? await refreshDirectory() } else { try? await refreshCounters() }
        }
    }

    /// Reads the snapshot; before the first load the answer is a temporary failure (a 451 at
    /// RCPT), never a guess from an empty directory.
    func fromSnapshot<T>(_ read: (DirectorySnapshot) -> T) throws(StoreError) -> T {
        // A copy of the value (its dictionaries are shared, not copied) read outside the lock.
        guard let current = snapshot.withLock({ $0 }) else { throw .failure("the directory is not loaded yet") }
        return read(current)
    }

    static let apiKeyColumns = "id, account, name, secret_hash, created_at, revoked_at, scopes, sandbox, last_used_at"

    static func apiKey(from row: PostgresRow) throws -> APIKeyRecord {
        let (id, account, name, hash, createdAt, revokedAt, scopes, sandbox, lastUsed) = try row.decode(
            (String, String, String, String, Int64, Int64?, String, Bool, Int64?).self)
        return APIKeyRecord(
            id: id, user: account, name: name, secretHash: hash, createdAt: Int(createdAt), revokedAt: revokedAt.map(Int.init),
            scopes: Set(stored: scopes), sandbox: sandbox, lastUsedAt: lastUsed.map(Int.init))
    }

    static func signingKey(from row: PostgresRow) throws -> StoredSigningKey {
        let (domain, selector, algorithm, privateKey, createdAt, state) = try row.decode((String, String, String, String, Int64, String).self)
        return StoredSigningKey(
            domain: domain, selector: selector, algorithm: algorithm, privateKey: privateKey, createdAt: Int(createdAt),
            state: StoredSigningKey.State(rawValue: state) ?? .retired)
    }
}
