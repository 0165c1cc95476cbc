import MailStore
import PostgresNIO

/// DKIM keys: written to the table, read for signing from `DirectorySnapshot` (the accept path
/// signs synchronously), so a rotation on one node signs with the new key on every node within
/// the notification's delay.
extension PostgresStore: SigningKeyRepository {
    public func addSigningKey(_ key: StoredSigningKey) async throws(StoreError) {
        guard try await isHostedDomain(key.domain) else { throw .notFound("domain \(key.domain)") }
        let inserted = try await rows(
            """
            INSERT INTO signing_keys(domain, selector, algorithm, private_key, created_at, state)
            VALUES (\(key.domain.lowercased()), \(key.selector), \(key.algorithm), \(key.privateKey), \(Int64(key.createdAt)), \(key.state.rawValue))
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        guard !inserted.isEmpty else { throw .alreadyExists("DKIM selector \(key.selector) of \(key.domain)") }
        if followsDirectory { try await refreshDirectory() }
    }

    public func signingKeys(domain: String) async throws(StoreError) -> [StoredSigningKey] {
        try await decoded(
            """
            SELECT domain, selector, algorithm, private_key, created_at, state FROM signing_keys WHERE domain = \(domain)
            ORDER BY created_at, selector
            """, Self.signingKey(from:))
    }

    public func activeSigningKeys(domain: String) throws(StoreError) -> [StoredSigningKey] {
        try fromSnapshot { ($0.signingKeys[domain.lowercased()] ?? []).filter { $0.state == .active } }
    }

    public func retireSigningKeys(domain: String, keeping selectors: [String]) async throws(StoreError) {
        try await rows(
            "UPDATE signing_keys SET state = 'retired' WHERE domain = \(domain) AND state = 'active' AND NOT (selector = ANY(\(selectors)))")
        if followsDirectory { try await refreshDirectory() }
    }

    public func removeSigningKey(domain: String, selector: String) async throws(StoreError) -> Bool {
        let removed = try await !rows("DELETE FROM signing_keys WHERE domain = \(domain) AND selector = \(selector) RETURNING 1").isEmpty
        if removed && followsDirectory { try await refreshDirectory() }
        return removed
    }
}
