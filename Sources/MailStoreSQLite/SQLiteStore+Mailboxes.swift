import Foundation
import GRDB
import MailCore
import MailStore

extension SQLiteStore: MailboxRepository {
    /// The default folders of a new user; UIDVALIDITY is the creation time, so a folder made
    /// again later gets a larger one (RFC 9051 §2.3.1.1).
    /// `subscribe` is false only in the migration that ran before subscriptions existed.
    static func createFolders(_ db: Database, user: String, subscribe: Bool = true) throws {
        let now = Int(Date().timeIntervalSince1970)
        for name in Mailbox.defaultNames {
            try db.execute(sql: "INSERT OR IGNORE INTO mailboxes(user, name, uidvalidity) VALUES (?, ?, ?)", arguments: [user, name, now])
            if subscribe { try db.execute(sql: "INSERT OR IGNORE INTO mailbox_subscriptions(user, name) VALUES (?, ?)", arguments: [user, name]) }
        }
    }

    static let mailboxColumns = """
        m.id, m.user, m.name, m.uidvalidity, m.uidnext, m.highest_modseq,
        (SELECT COUNT(*) FROM mailbox_messages WHERE mailbox_id = m.id) AS count,
        (SELECT COALESCE(SUM(size), 0) FROM mailbox_messages WHERE mailbox_id = m.id) AS bytes
        """

    static func mailbox(from row: Row) -> Mailbox {
        Mailbox(
            id: row["id"], user: row["user"], name: row["name"], uidValidity: row["uidvalidity"], uidNext: row["uidnext"],
            highestModSeq: row["highest_modseq"], messages: row["count"], size: row["bytes"])
    }

    /// A stored message is its trace prefix (added at delivery) and the shared content.
    static func joined(_ prefix: Data, _ content: Data) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(prefix.count + content.count)
        bytes.append(contentsOf: prefix)
        bytes.append(contentsOf: content)
        return bytes
    }

    public func mailboxes(user: String) async throws(StoreError) -> [Mailbox] {
        try readNow(isolated: false) { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.mailboxColumns) FROM mailboxes m WHERE m.user = ? ORDER BY m.id"), arguments: [user])
                .map(Self.mailbox(from:))
        }
    }

    public func mailbox(user: String, name: String) async throws(StoreError) -> Mailbox? {
        try readNow(isolated: false) { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.mailboxColumns) FROM mailboxes m WHERE m.user = ? AND m.name = ?"), arguments: [user, name]
            ).map(Self.mailbox(from:))
        }
    }

    public func messages(mailboxID: Int) async throws(StoreError) -> [MailboxMessage] {
        try readNow(isolated: false) { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.mailboxMessageColumns) FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid"),
                arguments: [mailboxID]
            ).map(Self.mailboxMessage)
        }
    }

    public func content(mailboxID: Int, uid: Int) async throws(StoreError) -> [UInt8]? {
        try readNow(isolated: false) { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT mm.prefix, m.content FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id
                            WHERE mm.mailbox_id = ? AND mm.uid = ?
                            """), arguments: [mailboxID, uid])
            else { return nil }
            return Self.joined(row[0], row[1])
        }
    }

    public func contents(mailboxID: Int, uids: [Int]) async throws(StoreError) -> [Int: [UInt8]] {
        guard !uids.isEmpty else { return [:] }
        return try readNow { db in
            var out: [Int: [UInt8]] = [:]
            // SQLite allows 32,766 parameters; a chunk of 500 keeps each statement small.
            for start in stride(from: 0, to: uids.count, by: 500) {
                let chunk = Array(uids[start..<min(start + 500, uids.count)])
                // Cached by its text: FETCH and SEARCH ask for a few recurring batch sizes.
                let rows = try Row.fetchCursor(
                    db.cachedStatement(
                        sql: """
                            SELECT mm.uid, mm.prefix, m.content FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id
                            WHERE mm.mailbox_id = ? AND mm.uid IN (\(chunk.map { _ in "?" }.joined(separator: ",")))
                            """), arguments: StatementArguments([mailboxID] + chunk))
                while let row = try rows.next() { out[row[0]] = Self.joined(row[1], row[2]) }
            }
            return out
        }
    }

    public func expunge(mailboxID: Int, uids: [Int]) async throws(StoreError) -> Int {
        guard !uids.isEmpty else { return 0 }
        // Unsynced, like flag changes: after a power loss an expunged message may come back,
        // never the other way round.
        let (removed, user, modSeq): (Int, String?, Int) = try await writeUnsynced { db in
            let removed = try Self.expunge(db, mailboxID: mailboxID, uids: uids)
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT user, highest_modseq FROM mailboxes WHERE id = ?"), arguments: [mailboxID])
            return (removed, row?[0], row?[1] ?? 0)
        }
        if removed > 0, let user { mailboxSignals.changed(user: user, mailboxID: mailboxID, modSeq: modSeq) }
        return removed
    }

    /// Removes messages inside a transaction: usage goes down, the folder's MODSEQ goes up once
    /// and each expunged UID is kept with it (for VANISHED), content nobody holds is freed.
    static func expunge(_ db: Database, mailboxID: Int, uids: [Int]) throws -> Int {
        var removed = 0
        var released: Set<String> = []
        let modseq = (try Int.fetchOne(db.cachedStatement(sql: "SELECT highest_modseq FROM mailboxes WHERE id = ?"), arguments: [mailboxID]) ?? 0) + 1
        for uid in uids {
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT size, message_id FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?"), arguments: [mailboxID, uid])
            else { continue }
            let size: Int = row[0]
            released.insert(row[1])
            try db.cachedStatement(sql: "DELETE FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?").execute(arguments: [mailboxID, uid])
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO mailbox_expunged(mailbox_id, uid, modseq) VALUES (?, ?, ?)")
                .execute(arguments: [mailboxID, uid, modseq])
            try db.cachedStatement(
                sql: "UPDATE users SET used_bytes = MAX(0, used_bytes - ?) WHERE address = (SELECT user FROM mailboxes WHERE id = ?)"
            ).execute(arguments: [size, mailboxID])
            removed += 1
        }
        if removed > 0 { try db.cachedStatement(sql: "UPDATE mailboxes SET highest_modseq = ? WHERE id = ?").execute(arguments: [modseq, mailboxID]) }
        // Content stored once for many mailboxes goes when the last of them lets it go.
        let now = Int(Date().timeIntervalSince1970)
        for messageID in released { try Self.deleteContentIfUnreferenced(db, messageID: messageID, at: now) }
        return removed
    }

    public func resolveLocal(_ address: String) throws(StoreError) -> LocalRecipient {
        do {
            return try pool.read { db in try self.resolveLocal(db, address) }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func firstUser() throws(StoreError) -> String? {
        do {
            return try pool.read { db in try String.fetchOne(db, sql: "SELECT address FROM users ORDER BY created_at, rowid LIMIT 1") }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Aliases first (an alias may shadow a user, as Postfix's virtual_alias_maps does), then
    /// users, then the same for `user` of `user+tag`, then the domain's catch-all.
    func resolveLocal(_ db: Database, _ address: String) throws -> LocalRecipient {
        try Self.resolveLocal(db, address, subaddressSeparator: subaddressSeparator)
    }

    static func resolveLocal(_ db: Database, _ address: String, subaddressSeparator: String) throws -> LocalRecipient {
        let lower = address.lowercased()
        if let found = try exact(db, lower) { return found }
        guard let at = lower.lastIndex(of: "@") else { return .unknown }
        let local = lower[..<at]
        let domain = String(lower[lower.index(after: at)...])
        if !subaddressSeparator.isEmpty, let separator = local.range(of: subaddressSeparator), separator.lowerBound > local.startIndex {
            if let found = try exact(db, "\(local[..<separator.lowerBound])@\(domain)") { return found }
        }
        if let target = try String.fetchOne(db.cachedStatement(sql: "SELECT target FROM catch_alls WHERE domain = ?"), arguments: [domain]) {
            return .expand([target])
        }
        return .unknown
    }

    private static func exact(_ db: Database, _ address: String) throws -> LocalRecipient? {
        let targets = try String.fetchAll(db.cachedStatement(sql: "SELECT target FROM aliases WHERE address = ? ORDER BY target"), arguments: [address])
        if !targets.isEmpty { return .expand(targets) }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT address, quota_bytes FROM users WHERE address = ?"), arguments: [address])
        else { return nil }
        let user: String = row["address"]
        var overQuota = false
        if let quota = row["quota_bytes"] as Int? { overQuota = try Self.usedBytes(db, user: user) >= quota }
        return .mailbox(user: user, overQuota: overQuota)
    }

    static func usedBytes(_ db: Database, user: String) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT used_bytes FROM users WHERE address = ?"), arguments: [user]) ?? 0
    }

    public func usage(user: String) throws(StoreError) -> (bytes: Int, quota: Int?) {
        do {
            return try pool.read { db in
                (try Self.usedBytes(db, user: user), try Int.fetchOne(db, sql: "SELECT quota_bytes FROM users WHERE address = ?", arguments: [user]))
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func setQuota(user: String, bytes: Int?) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE users SET quota_bytes = ? WHERE address = ?", arguments: [bytes, user])
            if db.changesCount == 0 { throw StoreError.notFound("user \(user)") }
        }
    }

    public func addAlias(_ address: String, targets: [String]) async throws(StoreError) {
        guard let at = address.lastIndex(of: "@") else { throw .invalid("\(address) has no domain") }
        let domain = address[address.index(after: at)...].lowercased()
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [domain]) == true else {
                throw StoreError.notFound("domain \(domain) (an alias must be in a hosted domain)")
            }
            for target in targets {
                try db.execute(sql: "INSERT OR IGNORE INTO aliases(address, target) VALUES (?, ?)", arguments: [address.lowercased(), target])
            }
        }
    }

    public func removeAlias(_ address: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM aliases WHERE address = ?", arguments: [address.lowercased()])
            return db.changesCount > 0
        }
    }

    public func aliases() async throws(StoreError) -> [(address: String, targets: [String])] {
        let rows: [[String]] = try readNow { db in
            try Row.fetchAll(db, sql: "SELECT address, target FROM aliases ORDER BY address, target").map { [$0["address"], $0["target"]] }
        }
        var out: [(address: String, targets: [String])] = []
        for row in rows {
            if out.last?.address == row[0] { out[out.count - 1].targets.append(row[1]) } else { out.append((row[0], [row[1]])) }
        }
        return out
    }

    public func setCatchAll(domain: String, target: String?) async throws(StoreError) {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [domain.lowercased()]) == true else {
                throw StoreError.notFound("domain \(domain)")
            }
            if let target {
                try db.execute(
                    sql: "INSERT INTO catch_alls(domain, target) VALUES (?, ?) ON CONFLICT(domain) DO UPDATE SET target = excluded.target",
                    arguments: [domain.lowercased(), target])
            } else {
                try db.execute(sql: "DELETE FROM catch_alls WHERE domain = ?", arguments: [domain.lowercased()])
            }
        }
    }

    /// A local delivery inside the transaction that records its outcome. The delivery key makes
    /// a repeat (an outcome written twice after a retried commit) a no-op.
    static func insertMailboxMessage(_ db: Database, messageID: String, position: Int, delivery: MailboxDelivery, at: Int) throws {
        let key = "\(messageID)#\(position)#\(delivery.user.lowercased())"
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM mailbox_messages WHERE delivery = ?"), arguments: [key]) == true { return }
        func folder() throws -> Row? {
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, uidnext, highest_modseq FROM mailboxes WHERE user = ? AND name = ?"),
                arguments: [delivery.user, delivery.folder])
        }
        var row = try folder()
        if row == nil {
            try createFolders(db, user: delivery.user)
            row = try folder()
        }
        guard let row else { throw StoreError.notFound("mailbox \(delivery.folder) of \(delivery.user)") }
        let mailboxID: Int = row["id"]
        let uid: Int = row["uidnext"]
        let modseq: Int = row["highest_modseq"] + 1
        let size = (try Int.fetchOne(db.cachedStatement(sql: "SELECT size FROM messages WHERE id = ?"), arguments: [messageID]) ?? 0) + delivery.prefix.count
        try db.cachedStatement(
            sql: """
                INSERT INTO mailbox_messages(mailbox_id, uid, message_id, prefix, size, internal_date, flags, modseq, delivery)
                VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)
                """
        ).execute(arguments: [mailboxID, uid, messageID, Data(delivery.prefix), size, at, modseq, key])
        try db.cachedStatement(sql: "UPDATE mailboxes SET uidnext = ?, highest_modseq = ? WHERE id = ?").execute(arguments: [uid + 1, modseq, mailboxID])
        try db.cachedStatement(sql: "UPDATE users SET used_bytes = used_bytes + ? WHERE address = ?").execute(arguments: [size, delivery.user])
    }

    /// An alias's targets become recipients of the same message, due now; a target already
    /// there (a repeated expansion) is not added twice.
    static func insertExpansion(_ db: Database, messageID: String, position: Int, targets: [String], at: Int) throws {
        guard
            let original = try Row.fetchOne(
                db, sql: "SELECT address, notify, orcpt FROM recipients WHERE message_id = ? AND position = ?", arguments: [messageID, position])
        else { return }
        let originalAddress: String = original["address"]
        for target in targets {
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM recipients WHERE message_id = ? AND address = ?", arguments: [messageID, target]) == true {
                continue
            }
            let next = (try Int.fetchOne(db, sql: "SELECT MAX(position) FROM recipients WHERE message_id = ?", arguments: [messageID]) ?? 0) + 1
            // RFC 3461 §4.2: ORCPT stays what the sender gave, else the address expanded, stored
            // as the parameter is written: xtext, so a "+" or "=" in the address survives.
            let orcpt: String = (original["orcpt"] as String?) ?? OriginalRecipient(addressType: "rfc822", address: originalAddress).description
            try db.execute(
                sql: "INSERT INTO recipients(message_id, position, address, state, notify, orcpt, next_attempt_at) VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                arguments: [messageID, next, target, original["notify"] as String?, orcpt, at])
            try insertEvent(
                db, at: at, messageID: messageID, recipient: target, type: RecipientState.queued.rawValue, mxHost: nil, tls: nil, reply: nil,
                position: next)
        }
    }
}
