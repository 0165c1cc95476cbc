import Foundation
import GRDB
import MailCore
import MailStore

extension SQLiteStore: SuppressionRepository {
    public func suppressions(
        account: String, list: SuppressionList, groupID: Int, email: String?, from: Int?, to: Int?, limit: Int, offset: Int
    ) async throws(StoreError) -> [Suppression] {
        try await read { db in
            var sql = "SELECT * FROM suppressions WHERE account = ? AND list = ? AND group_id = ?"
            var arguments: [(any DatabaseValueConvertible)?] = [account, list.rawValue, groupID]
            if let email {
                sql += " AND email = ?"
                arguments.append(email.lowercased())
            }
            if let from {
                sql += " AND created_at >= ?"
                arguments.append(from)
            }
            if let to {
                sql += " AND created_at <= ?"
                arguments.append(to)
            }
            sql += " ORDER BY created_at DESC, email LIMIT ? OFFSET ?"
            arguments += [limit, offset]
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map {
                Suppression(
                    account: $0["account"], list: SuppressionList(rawValue: $0["list"]) ?? .bounces, groupID: $0["group_id"], email: $0["email"],
                    createdAt: $0["created_at"], reason: $0["reason"], status: $0["status"])
            }
        }
    }

    public func addSuppressions(_ entries: [Suppression]) async throws(StoreError) {
        try await write { db in
            for entry in entries {
                try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO suppressions(account, list, group_id, email, created_at, reason, status) VALUES (?, ?, ?, ?, ?, ?, ?)"
                ).execute(arguments: [entry.account, entry.list.rawValue, entry.groupID, entry.email, entry.createdAt, entry.reason, entry.status])
            }
        }
    }

    public func removeSuppressions(account: String, list: SuppressionList, groupID: Int, emails: [String]?) async throws(StoreError) -> Int {
        try await write { db in
            guard let emails else {
                try db.execute(
                    sql: "DELETE FROM suppressions WHERE account = ? AND list = ? AND group_id = ?", arguments: [account, list.rawValue, groupID])
                return db.changesCount
            }
            var removed = 0
            for email in emails {
                try db.execute(
                    sql: "DELETE FROM suppressions WHERE account = ? AND list = ? AND group_id = ? AND email = ?",
                    arguments: [account, list.rawValue, groupID, email.lowercased()])
                removed += db.changesCount
            }
            return removed
        }
    }

    public func suppressedAddresses(account: String, addresses: [String], group: Int?) async throws(StoreError) -> [String: SuppressionList] {
        guard !addresses.isEmpty else { return [:] }
        return try await read { db in try Self.suppressedAddresses(db, account: account, addresses: addresses, group: group) }
    }

    /// One indexed read per distinct address, inside the caller's transaction.
    static func suppressedAddresses(_ db: Database, account: String, addresses: [String], group: Int?) throws -> [String: SuppressionList] {
        var found: [String: SuppressionList] = [:]
        let statement = try db.cachedStatement(
            sql: """
                SELECT list FROM suppressions WHERE account = ? AND email = ?
                  AND list != 'blocks' AND (list != 'group' OR group_id = ?) LIMIT 1
                """)
        for address in Set(addresses) {
            if let list = try String.fetchOne(statement, arguments: [account, address, group ?? -1]).flatMap(SuppressionList.init(rawValue:)) {
                found[address] = list
            }
        }
        return found
    }

    public func addGroup(account: String, name: String, description: String, isDefault: Bool, at: Int) async throws(StoreError) -> SuppressionGroup {
        try await write { db in
            if isDefault { try db.execute(sql: "UPDATE suppression_groups SET is_default = 0 WHERE account = ?", arguments: [account]) }
            try db.execute(
                sql: "INSERT INTO suppression_groups(account, name, description, is_default, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [account, name, description, isDefault, at])
            return SuppressionGroup(id: Int(db.lastInsertedRowID), account: account, name: name, description: description, isDefault: isDefault, createdAt: at)
        }
    }

    public func groups(account: String) async throws(StoreError) -> [SuppressionGroup] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM suppression_groups WHERE account = ? ORDER BY id", arguments: [account]).map {
                SuppressionGroup(
                    id: $0["id"], account: $0["account"], name: $0["name"], description: $0["description"], isDefault: $0["is_default"],
                    createdAt: $0["created_at"])
            }
        }
    }

    public func updateGroup(_ group: SuppressionGroup) async throws(StoreError) -> Bool {
        try await write { db in
            if group.isDefault {
                try db.execute(sql: "UPDATE suppression_groups SET is_default = 0 WHERE account = ? AND id != ?", arguments: [group.account, group.id])
            }
            try db.execute(
                sql: "UPDATE suppression_groups SET name = ?, description = ?, is_default = ? WHERE id = ? AND account = ?",
                arguments: [group.name, group.description, group.isDefault, group.id, group.account])
            return db.changesCount > 0
        }
    }

    public func removeGroup(id: Int, account: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM suppression_groups WHERE id = ? AND account = ?", arguments: [id, account])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM suppressions WHERE account = ? AND list = 'group' AND group_id = ?", arguments: [account, id])
            return true
        }
    }
}
