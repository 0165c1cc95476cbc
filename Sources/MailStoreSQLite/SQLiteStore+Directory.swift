import Foundation
import GRDB
import MailCore
import MailStore

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
                    INSERT INTO users(address, domain, password_hash, plan, created_at, scram, cram_secret, is_operator)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    user.address, domain.lowercased(), user.passwordHash, user.plan, user.createdAt, user.scram, user.cramSecret, user.isOperator,
                ])
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
            let held = try String.fetchAll(
                db, sql: "SELECT DISTINCT mm.message_id FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id WHERE m.user = ?",
                arguments: [address])
            try db.execute(sql: "DELETE FROM users WHERE address = ?", arguments: [address])
            if db.changesCount == 0 { throw StoreError.notFound("user \(address)") }
            // The user's mailboxes went with the row (ON DELETE CASCADE); so does content only they held.
            let now = Int(Date().timeIntervalSince1970)
            for messageID in held { try Self.deleteContentIfUnreferenced(db, messageID: messageID, at: now) }
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
                sql: "INSERT INTO api_keys(id, user, name, secret_hash, created_at, scopes, sandbox) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [key.id, key.user, key.name, key.secretHash, key.createdAt, key.scopes.stored, key.sandbox])
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

    public func updateAPIKey(id: String, name: String?, scopes: Set<APIScope>?) async throws(StoreError) -> Bool {
        try await write { db in
            if let name { try db.execute(sql: "UPDATE api_keys SET name = ? WHERE id = ? AND revoked_at IS NULL", arguments: [name, id]) }
            if let scopes {
                try db.execute(sql: "UPDATE api_keys SET scopes = ? WHERE id = ? AND revoked_at IS NULL", arguments: [scopes.stored, id])
            }
            return try Bool.fetchOne(db, sql: "SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL", arguments: [id]) == true
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

    public func recordAPIKeyUse(id: String, at: Int) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)", arguments: [at, id, at])
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

    public func setCredentials(user: String, passwordHash: String, scram: String?, cramSecret: String?) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE users SET password_hash = ?, scram = ?, cram_secret = ? WHERE address = ?",
                arguments: [passwordHash, scram, cramSecret, user])
            if db.changesCount == 0 { throw StoreError.notFound("user \(user)") }
        }
    }

    public func setOperator(user: String, _ isOperator: Bool) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE users SET is_operator = ? WHERE address = ?", arguments: [isOperator, user])
            if db.changesCount == 0 { throw StoreError.notFound("user \(user)") }
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
            revokedAt: row["revoked_at"], scopes: Set(stored: row["scopes"]), sandbox: row["sandbox"], lastUsedAt: row["last_used_at"])
    }

    static func user(from row: Row) -> MailUser {
        MailUser(
            address: row["address"], passwordHash: row["password_hash"], plan: row["plan"], createdAt: row["created_at"], scram: row["scram"],
            isOperator: row["is_operator"])
    }
}
