import MailStore
import PostgresNIO

extension PostgresStore: SuppressionRepository {
    public func suppressions(
        account: String, list: SuppressionList, groupID: Int, email: String?, from: Int?, to: Int?, limit: Int, offset: Int
    ) async throws(StoreError) -> [Suppression] {
        try await decoded(
            """
            SELECT account, list, group_id, email, created_at, reason, status FROM suppressions
            WHERE account = \(account) AND list = \(list.rawValue) AND group_id = \(Int64(groupID))
              AND (\(email?.lowercased())::text IS NULL OR email = \(email?.lowercased()))
              AND (\(from.map(Int64.init))::bigint IS NULL OR created_at >= \(from.map(Int64.init)))
              AND (\(to.map(Int64.init))::bigint IS NULL OR created_at <= \(to.map(Int64.init)))
            ORDER BY created_at DESC, email LIMIT \(Int64(limit)) OFFSET \(Int64(offset))
            """, Self.suppression(from:))
    }

    public func addSuppressions(_ entries: [Suppression]) async throws(StoreError) {
        guard !entries.isEmpty else { return }
        try await transaction { connection in
            for entry in entries {
                try await connection.query(
                    """
                    INSERT INTO suppressions(account, list, group_id, email, created_at, reason, status)
                    VALUES (\(entry.account), \(entry.list.rawValue), \(Int64(entry.groupID)), \(entry.email), \(Int64(entry.createdAt)), \(entry.reason),
                            \(entry.status))
                    ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
        }
    }

    public func removeSuppressions(account: String, list: SuppressionList, groupID: Int, emails: [String]?) async throws(StoreError) -> Int {
        try await rows(
            """
            DELETE FROM suppressions WHERE account = \(account) AND list = \(list.rawValue) AND group_id = \(Int64(groupID))
              AND (\(emails == nil) OR email = ANY(\(emails?.map { $0.lowercased() } ?? [])))
            RETURNING 1
            """
        ).count
    }

    public func suppressedAddresses(account: String, addresses: [String], group: Int?) async throws(StoreError) -> [String: SuppressionList] {
        guard !addresses.isEmpty else { return [:] }
        return try await transaction { connection in
            try await Self.suppressedAddresses(connection, account: account, addresses: addresses, group: group, logger: self.logger)
        }
    }

    /// The lists that drop mail to each of `addresses` (one query for them all), inside the
    /// caller's transaction.
    static func suppressedAddresses(
        _ connection: PostgresConnection, account: String, addresses: [String], group: Int?, logger: Logger
    ) async throws -> [String: SuppressionList] {
        var found: [String: SuppressionList] = [:]
        for try await (email, list) in try await connection.query(
            """
            SELECT DISTINCT ON (email) email, list FROM suppressions
            WHERE account = \(account) AND email = ANY(\(Array(Set(addresses))))
              AND list <> 'blocks' AND (list <> 'group' OR group_id = \(Int64(group ?? -1)))
            ORDER BY email, list
            """, logger: logger
        ).decode((String, String).self) {
            found[email] = SuppressionList(rawValue: list)
        }
        return found
    }

    public func addGroup(account: String, name: String, description: String, isDefault: Bool, at: Int) async throws(StoreError) -> SuppressionGroup {
        try await transaction { connection in
            if isDefault {
                try await connection.query("UPDATE suppression_groups SET is_default = false WHERE account = \(account)", logger: self.logger)
            }
            var id: Int64 = 0
            for try await value in try await connection.query(
                """
                INSERT INTO suppression_groups(account, name, description, is_default, created_at)
                VALUES (\(account), \(name), \(description), \(isDefault), \(Int64(at))) RETURNING id
                """, logger: self.logger
            ).decode(Int64.self) {
                id = value
            }
            return SuppressionGroup(id: Int(id), account: account, name: name, description: description, isDefault: isDefault, createdAt: at)
        }
    }

    public func groups(account: String) async throws(StoreError) -> [SuppressionGroup] {
        try await decoded(
            "SELECT id, account, name, description, is_default, created_at FROM suppression_groups WHERE account = \(account) ORDER BY id"
        ) { row in
            let (id, account, name, description, isDefault, createdAt) = try row.decode((Int64, String, String, String, Bool, Int64).self)
            return SuppressionGroup(id: Int(id), account: account, name: name, description: description, isDefault: isDefault, createdAt: Int(createdAt))
        }
    }

    public func updateGroup(_ group: SuppressionGroup) async throws(StoreError) -> Bool {
        try await transaction { connection in
            if group.isDefault {
                try await connection.query(
                    "UPDATE suppression_groups SET is_default = false WHERE account = \(group.account) AND id <> \(Int64(group.id))", logger: self.logger)
            }
            return try await !connection.query(
                """
                UPDATE suppression_groups SET name = \(group.name), description = \(group.description), is_default = \(group.isDefault)
                WHERE id = \(Int64(group.id)) AND account = \(group.account) RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
        }
    }

    public func removeGroup(id: Int, account: String) async throws(StoreError) -> Bool {
        try await transaction { connection in
            let removed = try await connection.query(
                "DELETE FROM suppression_groups WHERE id = \(Int64(id)) AND account = \(account) RETURNING 1", logger: self.logger
            ).collect()
            guard !removed.isEmpty else { return false }
            try await connection.query(
                "DELETE FROM suppressions WHERE account = \(account) AND list = 'group' AND group_id = \(Int64(id))", logger: self.logger)
            return true
        }
    }

    static func suppression(from row: PostgresRow) throws -> Suppression {
        let (account, list, groupID, email, createdAt, reason, status) = try row.decode((String, String, Int64, String, Int64, String?, String?).self)
        return Suppression(
            account: account, list: SuppressionList(rawValue: list) ?? .bounces, groupID: Int(groupID), email: email, createdAt: Int(createdAt),
            reason: reason, status: status)
    }
}
