import Foundation
import GRDB
import MailStore

extension SQLiteStore: EngagementRepository {
    /// What `trackedRecipient(_:)` reads, in its order; the first delivery is when a click
    /// counts as a person's.
    static let trackedColumns = """
        m.id, r.position, r.address, m.auth_account, m.asm_group,
        (SELECT MIN(e.at) FROM events e WHERE e.message_id = m.id AND e.position = r.position AND e.type = 'delivered')
        """

    static func trackedRecipient(_ row: Row) -> TrackedRecipient {
        TrackedRecipient(queueID: row[0], position: row[1], address: row[2], account: row[3], deliveredAt: row[5], asmGroupID: row[4])
    }

    public func trackingKey() async throws(StoreError) -> [UInt8] {
        try await write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO server_secrets(name, value) VALUES ('tracking', randomblob(32))")
            let value = try Data.fetchOne(db, sql: "SELECT value FROM server_secrets WHERE name = 'tracking'") ?? Data()
            return Array(value)
        }
    }

    public func trackedRecipient(sgMessageID: String) async throws(StoreError) -> TrackedRecipient? {
        // `<request id or queue id>.<ordinal>` (see `sgMessageIDColumn`).
        guard let dot = sgMessageID.lastIndex(of: "."), let ordinal = Int(sgMessageID[sgMessageID.index(after: dot)...]), ordinal >= 0 else {
            return nil
        }
        let prefix = String(sgMessageID[..<dot])
        return try readNow(isolated: false) { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT \(Self.trackedColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
                            WHERE (m.request_id = ? OR (m.request_id IS NULL AND m.id = ?))
                              AND r.position = ? - COALESCE(m.request_first_recipient, 0)
                            """), arguments: [prefix, prefix, ordinal])
            else { return nil }
            return Self.trackedRecipient(row)
        }
    }

    public func reportedRecipient(messageIDHeader: String, address: String?) async throws(StoreError) -> TrackedRecipient? {
        let bare = messageIDHeader.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
        guard !bare.isEmpty else { return nil }
        return try readNow(isolated: false) { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.trackedColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
                        WHERE m.message_id IN (?, ?) AND m.auth_account IS NOT NULL AND (? IS NULL OR r.address = ? COLLATE NOCASE)
                        LIMIT 2
                        """), arguments: [bare, "<\(bare)>", address, address])
            guard rows.count == 1, let row = rows.first else { return nil }
            return Self.trackedRecipient(row)
        }
    }

    public func trackingSettings(account: String) throws(StoreError) -> String? {
        try readNow(isolated: false) { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT tracking_settings FROM users WHERE address = ?"), arguments: [account])
        }
    }

    public func setTrackingSettings(account: String, json: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE users SET tracking_settings = ? WHERE address = ?", arguments: [json, account])
            guard db.changesCount > 0 else { throw StoreError.notFound("user \(account)") }
        }
    }

    public func recordEngagement(_ type: String, for recipient: TrackedRecipient, at: Int, details: String?) async throws(StoreError) {
        // Not fsynced on its own: an open lost to a power cut is not mail lost.
        try await writeUnsynced { db in
            try db.cachedStatement(
                sql: "INSERT INTO events(at, message_id, recipient, type, position, details) VALUES (?, ?, ?, ?, ?, ?)"
            ).execute(arguments: [at, recipient.queueID, recipient.address, type, recipient.position, details])
        }
    }
}
