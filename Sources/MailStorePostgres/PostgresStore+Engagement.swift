import Foundation
import MailStore
import NIOCore
import PostgresNIO

extension PostgresStore: EngagementRepository {
    /// What `trackedRecipient` reads; the first delivery is when a click counts as a person's.
    static let trackedColumns = """
        m.id, r.position, r.address, m.auth_account, m.asm_group,
        (SELECT MIN(e.at) FROM events e WHERE e.message_id = m.id AND e.position = r.position AND e.type = 'delivered')
        """

    static func trackedRecipient(_ row: PostgresRow) throws -> TrackedRecipient {
        let (id, position, address, account, group, delivered) = try row.decode((String, Int32, String, String?, Int64?, Int64?).self)
        return TrackedRecipient(
            queueID: id, position: Int(position), address: address, account: account, deliveredAt: delivered.map(Int.init),
            asmGroupID: group.map(Int.init))
    }

    /// Made once by whichever node asks first; every node reads the same key.
    public func trackingKey() async throws(StoreError) -> [UInt8] {
        try await sharedSecret(named: "tracking")
    }

    /// The secret SCRAM's decoy salts derive from: one for all nodes, so a user that does not
    /// exist gets the same decoy from each of them.
    public func serverSecret() async throws(StoreError) -> [UInt8] {
        try await sharedSecret(named: "server")
    }

    /// 32 random bytes kept under `name`, made by the first node that asks; the others read it.
    func sharedSecret(named name: String) async throws(StoreError) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let candidate = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try await rows("INSERT INTO server_secrets(name, value) VALUES (\(name), \(ByteBuffer(bytes: candidate))) ON CONFLICT DO NOTHING")
        return try await decoded("SELECT value FROM server_secrets WHERE name = \(name)") { Array(try $0.decode(ByteBuffer.self).readableBytesView) }
            .first ?? []
    }

    public func trackedRecipient(sgMessageID: String) async throws(StoreError) -> TrackedRecipient? {
        guard let dot = sgMessageID.lastIndex(of: "."), let ordinal = Int(sgMessageID[sgMessageID.index(after: dot)...]), ordinal >= 0 else {
            return nil
        }
        let prefix = String(sgMessageID[..<dot])
        return try await decoded(
            """
            SELECT \(unescaped: Self.trackedColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
            WHERE (m.request_id = \(prefix) OR (m.request_id IS NULL AND m.id = \(prefix)))
              AND r.position = \(Int64(ordinal)) - COALESCE(m.request_first_recipient, 0)
            """, Self.trackedRecipient
        ).first
    }

    public func reportedRecipient(messageIDHeader: String, address: String?) async throws(StoreError) -> TrackedRecipient? {
        let bare = messageIDHeader.trimmingCharacters(in: .init(charactersIn: "<> \t"))
        guard !bare.isEmpty else { return nil }
        let found = try await decoded(
            """
            SELECT \(unescaped: Self.trackedColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
            WHERE m.message_id IN (\(bare), \("<\(bare)>")) AND m.auth_account IS NOT NULL
              AND (\(address)::text IS NULL OR r.address = \(address) COLLATE tern_nocase)
            LIMIT 2
            """, Self.trackedRecipient)
        return found.count == 1 ? found[0] : nil
    }

    public func trackingSettings(account: String) throws(StoreError) -> String? {
        try fromSnapshot { $0.users[account.lowercased()]?.trackingSettings }
    }

    public func setTrackingSettings(account: String, json: String) async throws(StoreError) {
        guard try await !rows("UPDATE users SET tracking_settings = \(json) WHERE address = \(account) RETURNING 1").isEmpty else {
            throw .notFound("user \(account)")
        }
        if followsDirectory { try await refreshDirectory() }
    }

    public func recordEngagement(_ type: String, for recipient: TrackedRecipient, at: Int, details: String?) async throws(StoreError) {
        try await rows(
            """
            INSERT INTO events(at, message_id, recipient, type, position, details)
            VALUES (\(Int64(at)), \(recipient.queueID), \(recipient.address), \(type), \(Int32(recipient.position)), \(details))
            """)
    }
}
