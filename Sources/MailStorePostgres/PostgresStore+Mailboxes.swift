import Logging
import MailCore
import MailStore
import PostgresNIO

/// Mailboxes on PostgreSQL: SQLite's `MailboxRepository` (SQLiteStore+Mailboxes, +Folders) with
/// what several nodes writing to one user's folders need. Every change to a folder takes the
/// folder's row lock first (`FOR UPDATE`), then the user's (the quota), always in that order,
/// so UIDs and MODSEQs are handed out once however many nodes append, deliver, copy or
/// expunge at the same moment; a move locks both folders in id order. A change notifies
/// `tern_mailbox` at commit, which wakes the user's IDLE sessions on every other node.
extension PostgresStore: MailboxRepository {
    static let mailboxChannel = "tern_mailbox"

    static let mailboxColumns = """
        m.id, m.account, m.name, m.uidvalidity, m.uidnext, m.highest_modseq,
        (SELECT COUNT(*) FROM mailbox_messages WHERE mailbox_id = m.id),
        (SELECT COALESCE(SUM(size), 0)::bigint FROM mailbox_messages WHERE mailbox_id = m.id)
        """

    static func mailbox(from row: PostgresRow) throws -> Mailbox {
        let (id, account, name, validity, next, modseq, count, bytes) = try row.decode((Int64, String, String, Int64, Int64, Int64, Int64, Int64).self)
        return Mailbox(
            id: Int(id), user: account, name: name, uidValidity: Int(validity), uidNext: Int(next), highestModSeq: Int(modseq), messages: Int(count),
            size: Int(bytes))
    }

    /// The columns `mailboxMessage(from:)` reads, in its order.
    static let mailboxMessageColumns = "uid, message_id, size, internal_date, flags, modseq"

    static func mailboxMessage(from row: PostgresRow) throws -> MailboxMessage {
        let (uid, messageID, size, date, flags, modseq) = try row.decode((Int64, String, Int64, Int64, String, Int64).self)
        return MailboxMessage(
            uid: Int(uid), messageID: messageID, size: Int(size), internalDate: Int(date),
            flags: flags.isEmpty ? [] : flags.split(separator: " ").map(String.init), modSeq: Int(modseq))
    }

    /// At commit, every node's sessions watching `account` look again (identical notifications
    /// of one transaction are delivered once). The payload names this node, which has already
    /// woken its own sessions.
    func notifyMailboxChange(_ connection: PostgresConnection, account: String) async throws {
        try await connection.query("SELECT pg_notify(\(Self.mailboxChannel), \(node + "\t" + account.lowercased()))", logger: logger)
    }

    /// A notification from `tern_mailbox`: another node changed this user's folders.
    func mailboxNotification(_ payload: String) {
        guard let tab = payload.firstIndex(of: "\t"), payload[..<tab] != node else { return }
        mailboxSignals.changed([String(payload[payload.index(after: tab)...])])
    }

    /// This node's view of `account`'s bytes after a change it made (other nodes' changes
    /// arrive with the next counter reload, within a second).
    func noteUsedBytes(_ account: String, _ bytes: Int64) {
        snapshot.withLock { current in
            guard current != nil else { return }
            let key = account.lowercased()
            current!.noteCount += 1
            current!.usedBytes[key] = Int(bytes)
            current!.notedAt[key] = current!.noteCount
        }
    }

    // MARK: - Reading

    public func mailboxes(user: String) async throws(StoreError) -> [Mailbox] {
        try await decoded("SELECT \(unescaped: Self.mailboxColumns) FROM mailboxes m WHERE m.account = \(user) ORDER BY m.id", Self.mailbox(from:))
    }

    public func mailbox(user: String, name: String) async throws(StoreError) -> Mailbox? {
        try await decoded(
            "SELECT \(unescaped: Self.mailboxColumns) FROM mailboxes m WHERE m.account = \(user) AND m.name = \(name)", Self.mailbox(from:)
        ).first
    }

    public func messages(mailboxID: Int) async throws(StoreError) -> [MailboxMessage] {
        try await decoded(
            "SELECT \(unescaped: Self.mailboxMessageColumns) FROM mailbox_messages WHERE mailbox_id = \(Int64(mailboxID)) ORDER BY uid",
            Self.mailboxMessage(from:))
    }

    public func content(mailboxID: Int, uid: Int) async throws(StoreError) -> [UInt8]? {
        try await contents(mailboxID: mailboxID, uids: [uid])[uid]
    }

    public func contents(mailboxID: Int, uids: [Int]) async throws(StoreError) -> [Int: [UInt8]] {
        guard !uids.isEmpty else { return [:] }
        var out: [Int: [UInt8]] = [:]
        // Chunks keep one answer's rows (whole messages) to a bounded size in flight.
        for start in stride(from: 0, to: uids.count, by: 500) {
            let chunk = uids[start..<min(start + 500, uids.count)].map(Int64.init)
            for (uid, prefix, content) in try await decoded(
                """
                SELECT mm.uid, mm.prefix, m.content FROM mailbox_messages mm JOIN messages m ON m.id = mm.message_id
                WHERE mm.mailbox_id = \(Int64(mailboxID)) AND mm.uid = ANY(\(chunk))
                """, { try $0.decode((Int64, ByteBuffer, ByteBuffer).self) })
            {
                var bytes = [UInt8]()
                bytes.reserveCapacity(prefix.readableBytes + content.readableBytes)
                bytes.append(contentsOf: prefix.readableBytesView)
                bytes.append(contentsOf: content.readableBytesView)
                out[Int(uid)] = bytes
            }
        }
        return out
    }

    public func firstUser() throws(StoreError) -> String? {
        try fromSnapshot { $0.firstUser }
    }

    /// From the snapshot: this node's own changes at once, other nodes' within a second.
    public func usage(user: String) throws(StoreError) -> (bytes: Int, quota: Int?) {
        try fromSnapshot { snapshot in
            let key = user.lowercased()
            return (snapshot.usedBytes[key] ?? 0, snapshot.users[key]?.quota)
        }
    }

    public func changes(mailboxID: Int, since modSeq: Int) async throws(StoreError) -> MailboxChanges {
        // One snapshot for the three reads, as SQLite's single read transaction gives.
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
            var highest: Int64 = 0
            for try await value in try await connection.query(
                "SELECT highest_modseq FROM mailboxes WHERE id = \(Int64(mailboxID))", logger: self.logger
            ).decode(Int64.self) {
                highest = value
            }
            guard highest > modSeq else { return MailboxChanges(messages: [], expunged: [], highestModSeq: Int(highest)) }
            var messages: [MailboxMessage] = []
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Self.mailboxMessageColumns) FROM mailbox_messages WHERE mailbox_id = \(Int64(mailboxID)) AND modseq > \(Int64(modSeq))
                ORDER BY uid
                """, logger: self.logger)
            {
                messages.append(try Self.mailboxMessage(from: row))
            }
            var expunged: [Int] = []
            for try await uid in try await connection.query(
                "SELECT uid FROM mailbox_expunged WHERE mailbox_id = \(Int64(mailboxID)) AND modseq > \(Int64(modSeq)) ORDER BY uid", logger: self.logger
            ).decode(Int64.self) {
                expunged.append(Int(uid))
            }
            return MailboxChanges(messages: messages, expunged: expunged, highestModSeq: Int(highest))
        }
    }

    public func claimRecent(mailboxID: Int) async throws(StoreError) -> Int {
        // Most SELECTs find nothing new: one read, no write.
        guard
            let (mark, next) = try await decoded(
                "SELECT recent_uid, uidnext FROM mailboxes WHERE id = \(Int64(mailboxID))", { try $0.decode((Int64, Int64).self) }
            ).first
        else { return 0 }
        if mark >= next - 1 { return Int(mark) }
        // The old mark comes from the locked row, so two sessions (on any nodes) claiming at
        // once see each message as recent in exactly one of them.
        return try await decoded(
            """
            UPDATE mailboxes m SET recent_uid = m.uidnext - 1
            FROM (SELECT id, recent_uid FROM mailboxes WHERE id = \(Int64(mailboxID)) FOR UPDATE) old
            WHERE m.id = old.id RETURNING old.recent_uid
            """, { Int(try $0.decode(Int64.self)) }
        ).first ?? Int(mark)
    }

    // MARK: - Changing messages

    /// The folder's row, locked for this transaction: its owner and counters.
    static func lockMailbox(_ connection: PostgresConnection, _ mailboxID: Int, logger: Logger) async throws -> (
        account: String, uidNext: Int64, highestModSeq: Int64
    ) {
        for try await row in try await connection.query(
            "SELECT account, uidnext, highest_modseq FROM mailboxes WHERE id = \(Int64(mailboxID)) FOR UPDATE", logger: logger
        ).decode((String, Int64, Int64).self) {
            return row
        }
        throw StoreError.notFound("mailbox")
    }

    /// Refuses a change that would take `account` past its quota (RFC 9208 §4.1 `OVERQUOTA`),
    /// with the user's row locked, so nodes adding at once cannot pass it together.
    static func checkQuota(_ connection: PostgresConnection, account: String, adding bytes: Int, logger: Logger) async throws {
        for try await (quota, used) in try await connection.query(
            "SELECT quota_bytes, used_bytes FROM users WHERE address = \(account) FOR UPDATE", logger: logger
        ).decode((Int64?, Int64).self) {
            if let quota, used + Int64(bytes) > quota {
                throw StoreError.limitReached(UsageLimit(period: "quota", limit: Int(quota), perRecipient: false, resetsAt: 0, name: "mailbox quota"))
            }
        }
    }

    /// Adds `bytes` (negative: removes) to the user's usage; answers the new total.
    static func addUsedBytes(_ connection: PostgresConnection, account: String, _ bytes: Int64, logger: Logger) async throws -> Int64? {
        for try await used in try await connection.query(
            "UPDATE users SET used_bytes = GREATEST(0, used_bytes + \(bytes)) WHERE address = \(account) RETURNING used_bytes", logger: logger
        ).decode(Int64.self) {
            return used
        }
        return nil
    }

    public func append(mailboxID: Int, content: [UInt8], flags: [String], internalDate: Int) async throws(StoreError) -> MailboxMessage {
        let (message, account, used) = try await transaction { connection in
            let folder = try await Self.lockMailbox(connection, mailboxID, logger: self.logger)
            try await Self.checkQuota(connection, account: folder.account, adding: content.count, logger: self.logger)
            // The content is a stored message like any other: it goes when no folder holds it.
            let id = QueueID.make()
            let messageID = HeaderFields.firstValue(named: "Message-ID", in: content)
            try await connection.query(
                """
                INSERT INTO messages(id, message_id, reverse_path, size, created_at, content)
                VALUES (\(id), \(messageID), '', \(Int64(content.count)), \(Int64(Self.now())), \(ByteBuffer(bytes: content)))
                """, logger: self.logger)
            let uid = folder.uidNext
            let modseq = folder.highestModSeq + 1
            try await connection.query(
                """
                INSERT INTO mailbox_messages(mailbox_id, uid, message_id, prefix, size, internal_date, flags, modseq)
                VALUES (\(Int64(mailboxID)), \(uid), \(id), ''::bytea, \(Int64(content.count)), \(Int64(internalDate)), \(flags.joined(separator: " ")),
                        \(modseq))
                """, logger: self.logger)
            try await connection.query(
                "UPDATE mailboxes SET uidnext = \(uid + 1), highest_modseq = \(modseq) WHERE id = \(Int64(mailboxID))", logger: self.logger)
            let used = try await Self.addUsedBytes(connection, account: folder.account, Int64(content.count), logger: self.logger)
            try await self.notifyMailboxChange(connection, account: folder.account)
            let message = MailboxMessage(
                uid: Int(uid), messageID: id, size: content.count, internalDate: internalDate, flags: flags, modSeq: Int(modseq))
            return (message, folder.account, used)
        }
        if let used { noteUsedBytes(account, used) }
        mailboxSignals.changed(user: account, mailboxID: mailboxID, modSeq: message.modSeq)
        return message
    }

    public func storeFlags(mailboxID: Int, uids: [Int], change: FlagChange, unchangedSince: Int?) async throws(StoreError) -> FlagStoreResult {
        guard !uids.isEmpty else { return FlagStoreResult(updated: [], modified: []) }
        let (result, account): (FlagStoreResult, String?) = try await transaction { connection in
            let folder = try await Self.lockMailbox(connection, mailboxID, logger: self.logger)
            // One MODSEQ for the whole STORE (RFC 7162 §3.1.3 allows it): every changed message
            // gets it, and it is the folder's new HIGHESTMODSEQ.
            let modseq = folder.highestModSeq + 1
            var current: [Int: MailboxMessage] = [:]
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Self.mailboxMessageColumns) FROM mailbox_messages
                WHERE mailbox_id = \(Int64(mailboxID)) AND uid = ANY(\(uids.map(Int64.init)))
                """, logger: self.logger)
            {
                let message = try Self.mailboxMessage(from: row)
                current[message.uid] = message
            }
            var updated: [MailboxMessage] = []
            var modified: [Int] = []
            var written: (uids: [Int64], flags: [String]) = ([], [])
            for uid in uids {
                guard let found = current[uid] else { continue }
                guard let (message, write) = change.outcome(for: found, unchangedSince: unchangedSince, modSeq: Int(modseq)) else {
                    modified.append(uid)
                    continue
                }
                if write {
                    written.uids.append(Int64(uid))
                    written.flags.append(message.flags.joined(separator: " "))
                }
                updated.append(message)
            }
            guard !written.uids.isEmpty else { return (FlagStoreResult(updated: updated, modified: modified), nil) }
            try await connection.query(
                """
                UPDATE mailbox_messages mm SET flags = v.flags, modseq = \(modseq)
                FROM unnest(\(written.uids)::bigint[], \(written.flags)::text[]) AS v(uid, flags)
                WHERE mm.mailbox_id = \(Int64(mailboxID)) AND mm.uid = v.uid
                """, logger: self.logger)
            try await connection.query("UPDATE mailboxes SET highest_modseq = \(modseq) WHERE id = \(Int64(mailboxID))", logger: self.logger)
            try await self.notifyMailboxChange(connection, account: folder.account)
            return (FlagStoreResult(updated: updated, modified: modified), folder.account)
        }
        if let account, let modSeq = result.updated.map(\.modSeq).max() { mailboxSignals.changed(user: account, mailboxID: mailboxID, modSeq: modSeq) }
        return result
    }

    public func expunge(mailboxID: Int, uids: [Int]) async throws(StoreError) -> Int {
        guard !uids.isEmpty else { return 0 }
        let (removed, account, modSeq, used) = try await transaction { connection in
            let folder = try await Self.lockMailbox(connection, mailboxID, logger: self.logger)
            let (removed, used) = try await self.expunge(connection, mailboxID: mailboxID, folder: folder, uids: uids.map(Int64.init))
            return (removed, folder.account, Int(folder.highestModSeq) + 1, used)
        }
        if let used { noteUsedBytes(account, used) }
        if removed > 0 { mailboxSignals.changed(user: account, mailboxID: mailboxID, modSeq: modSeq) }
        return removed
    }

    /// Removes messages inside a transaction that holds the folder's lock: usage goes down,
    /// the folder's MODSEQ goes up once and each expunged UID is kept with it (for VANISHED),
    /// content nobody holds is freed. `uids` nil: every message.
    func expunge(
        _ connection: PostgresConnection, mailboxID: Int, folder: (account: String, uidNext: Int64, highestModSeq: Int64), uids: [Int64]?
    ) async throws -> (removed: Int, usedBytes: Int64?) {
        let modseq = folder.highestModSeq + 1
        var gone: [Int64] = []
        var bytes: Int64 = 0
        var released: Set<String> = []
        for try await (uid, size, messageID) in try await connection.query(
            """
            DELETE FROM mailbox_messages WHERE mailbox_id = \(Int64(mailboxID)) AND (\(uids == nil) OR uid = ANY(\(uids ?? [])))
            RETURNING uid, size, message_id
            """, logger: logger
        ).decode((Int64, Int64, String).self) {
            gone.append(uid)
            bytes += size
            released.insert(messageID)
        }
        guard !gone.isEmpty else { return (0, nil) }
        try await connection.query(
            """
            INSERT INTO mailbox_expunged(mailbox_id, uid, modseq) SELECT \(Int64(mailboxID)), uid, \(modseq) FROM unnest(\(gone)::bigint[]) AS uid
            ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq
            """, logger: logger)
        try await connection.query("UPDATE mailboxes SET highest_modseq = \(modseq) WHERE id = \(Int64(mailboxID))", logger: logger)
        let used = try await Self.addUsedBytes(connection, account: folder.account, -bytes, logger: logger)
        // Content stored once for many mailboxes goes when the last of them lets it go.
        let now = Self.now()
        for messageID in released.sorted() { try await Self.deleteContentIfUnreferenced(connection, messageID: messageID, at: now, logger: logger) }
        try await notifyMailboxChange(connection, account: folder.account)
        return (gone.count, used)
    }

    public func copy(from: Int, uids: [Int], to: Int, move: Bool) async throws(StoreError) -> [(source: Int, copy: Int)] {
        guard !uids.isEmpty else { return [] }
        let (pairs, account, used) = try await transaction { connection in
            try await self.copy(connection, from: from, uids: uids.map(Int64.init), to: to, move: move)
        }
        if let used { noteUsedBytes(account, used) }
        if !pairs.isEmpty { mailboxSignals.changed([account]) }
        return pairs
    }

    /// Copies (or moves) inside a transaction; the folders are locked in id order, so two
    /// moves in opposite directions wait for each other instead of deadlocking.
    func copy(_ connection: PostgresConnection, from: Int, uids: [Int64]?, to: Int, move: Bool) async throws -> (
        pairs: [(source: Int, copy: Int)], account: String, usedBytes: Int64?
    ) {
        var locked: [Int: (account: String, uidNext: Int64, highestModSeq: Int64)] = [:]
        for id in Set([from, to]).sorted() { locked[id] = try await Self.lockMailbox(connection, id, logger: logger) }
        guard let target = locked[to], let source = locked[from] else { throw StoreError.notFound("mailbox") }
        var sources: [(uid: Int64, size: Int64)] = []
        for try await row in try await connection.query(
            """
            SELECT uid, size FROM mailbox_messages WHERE mailbox_id = \(Int64(from)) AND (\(uids == nil) OR uid = ANY(\(uids ?? []))) ORDER BY uid
            """, logger: logger
        ).decode((Int64, Int64).self) {
            sources.append(row)
        }
        guard !sources.isEmpty else { return ([], target.account, nil) }
        let total = sources.reduce(Int64(0)) { $0 + $1.size }
        if !move || source.account.lowercased() != target.account.lowercased() {
            try await Self.checkQuota(connection, account: target.account, adding: Int(total), logger: logger)
        }
        let first = target.uidNext
        let modseq = target.highestModSeq + 1
        let sourceUIDs = sources.map(\.uid)
        // New UIDs in the order of the old ones (RFC 4315 §3: COPYUID lists them in order).
        try await connection.query(
            """
            INSERT INTO mailbox_messages(mailbox_id, uid, message_id, prefix, size, internal_date, flags, modseq)
            SELECT \(Int64(to)), \(first) + o.n - 1, mm.message_id, mm.prefix, mm.size, mm.internal_date, mm.flags, \(modseq)
            FROM unnest(\(sourceUIDs)::bigint[]) WITH ORDINALITY AS o(uid, n)
            JOIN mailbox_messages mm ON mm.mailbox_id = \(Int64(from)) AND mm.uid = o.uid
            """, logger: logger)
        try await connection.query(
            "UPDATE mailboxes SET uidnext = \(first + Int64(sources.count)), highest_modseq = \(modseq) WHERE id = \(Int64(to))", logger: logger)
        var used = try await Self.addUsedBytes(connection, account: target.account, total, logger: logger)
        try await notifyMailboxChange(connection, account: target.account)
        // A move is a copy and an expunge in one transaction (RFC 6851 §3.3): never both, never neither.
        if move {
            let removed = try await expunge(connection, mailboxID: from, folder: source, uids: sourceUIDs)
            if source.account.lowercased() == target.account.lowercased() { used = removed.usedBytes ?? used }
        }
        let pairs = sources.enumerated().map { (source: Int($0.element.uid), copy: Int(first) + $0.offset) }
        return (pairs, target.account, used)
    }

    // MARK: - Folders

    /// A folder's UIDVALIDITY must grow when a name is used again (RFC 9051 §2.3.1.1): the
    /// clock, and past every value this user has had.
    static func nextUIDValidity(_ connection: PostgresConnection, account: String, logger: Logger) async throws -> Int64 {
        var largest: Int64 = 0
        for try await value in try await connection.query(
            "SELECT MAX(uidvalidity) FROM mailboxes WHERE account = \(account)", logger: logger
        ).decode(Int64?.self) {
            largest = value ?? 0
        }
        return max(Int64(now()), largest + 1)
    }

    public func createMailbox(user: String, name: String) async throws(StoreError) -> Mailbox {
        let id: Int64 = try await transaction { connection in
            // The user's row lock orders folder changes of one user across nodes.
            try await connection.query("SELECT 1 FROM users WHERE address = \(user) FOR UPDATE", logger: self.logger)
            let validity = try await Self.nextUIDValidity(connection, account: user, logger: self.logger)
            for try await id in try await connection.query(
                "INSERT INTO mailboxes(account, name, uidvalidity) VALUES (\(user), \(name), \(validity)) ON CONFLICT DO NOTHING RETURNING id",
                logger: self.logger
            ).decode(Int64.self) {
                try await self.notifyMailboxChange(connection, account: user)
                return id
            }
            throw StoreError.alreadyExists("mailbox \(name)")
        }
        mailboxSignals.changed([user])
        guard let made = try await mailboxes(user: user).first(where: { $0.id == Int(id) }) else { throw .notFound("mailbox \(name)") }
        return made
    }

    public func deleteMailbox(user: String, name: String) async throws(StoreError) {
        let used: Int64? = try await transaction { connection in
            var id: Int64? = nil
            for try await value in try await connection.query(
                "SELECT id FROM mailboxes WHERE account = \(user) AND name = \(name)", logger: self.logger
            ).decode(Int64.self) {
                id = value
            }
            guard let id else { throw StoreError.notFound("mailbox \(name)") }
            let folder = try await Self.lockMailbox(connection, Int(id), logger: self.logger)
            let (_, used) = try await self.expunge(connection, mailboxID: Int(id), folder: folder, uids: nil)
            try await connection.query("DELETE FROM mailboxes WHERE id = \(id)", logger: self.logger)
            try await self.notifyMailboxChange(connection, account: user)
            return used
        }
        if let used { noteUsedBytes(user, used) }
        mailboxSignals.changed([user])
    }

    public func renameMailbox(user: String, from: String, to: String) async throws(StoreError) {
        try await transaction { connection in
            try await connection.query("SELECT 1 FROM users WHERE address = \(user) FOR UPDATE", logger: self.logger)
            var id: Int64? = nil
            for try await value in try await connection.query(
                "SELECT id FROM mailboxes WHERE account = \(user) AND name = \(from)", logger: self.logger
            ).decode(Int64.self) {
                id = value
            }
            guard let id else { throw StoreError.notFound("mailbox \(from)") }
            guard try await connection.query("SELECT 1 FROM mailboxes WHERE account = \(user) AND name = \(to)", logger: self.logger).collect().isEmpty
            else { throw StoreError.alreadyExists("mailbox \(to)") }
            var validity = try await Self.nextUIDValidity(connection, account: user, logger: self.logger)
            if from.uppercased() == "INBOX" {
                // RFC 9051 §6.3.6: INBOX's messages move to a new folder; INBOX stays, empty.
                var target: Int64 = 0
                for try await value in try await connection.query(
                    "INSERT INTO mailboxes(account, name, uidvalidity) VALUES (\(user), \(to), \(validity)) RETURNING id", logger: self.logger
                ).decode(Int64.self) {
                    target = value
                }
                _ = try await self.copy(connection, from: Int(id), uids: nil, to: Int(target), move: true)
                return
            }
            // The folder and everything below it; each renamed folder's UIDVALIDITY grows,
            // since a client may hold UIDs under the new name from an earlier folder.
            let prefix = from + "/"
            var renamed: [(Int64, String)] = []
            for try await row in try await connection.query(
                """
                SELECT id, name FROM mailboxes WHERE account = \(user) AND (name = \(from) OR left(name, \(Int32(prefix.count))) = \(prefix))
                ORDER BY id
                """, logger: self.logger
            ).decode((Int64, String).self) {
                renamed.append(row)
            }
            for (folder, name) in renamed {
                let newName = to + name.dropFirst(from.count)
                try await connection.query(
                    "UPDATE mailboxes SET name = \(newName), uidvalidity = \(validity) WHERE id = \(folder)", logger: self.logger)
                try await connection.query(
                    "UPDATE mailbox_subscriptions SET name = \(newName) WHERE account = \(user) AND name = \(name)", logger: self.logger)
                validity += 1
            }
            try await self.notifyMailboxChange(connection, account: user)
        }
        mailboxSignals.changed([user])
    }

    public func subscriptions(user: String) async throws(StoreError) -> [String] {
        try await decoded("SELECT name FROM mailbox_subscriptions WHERE account = \(user) ORDER BY name COLLATE \"C\"") { try $0.decode(String.self) }
    }

    public func setSubscribed(user: String, name: String, _ subscribed: Bool) async throws(StoreError) {
        if subscribed {
            try await rows("INSERT INTO mailbox_subscriptions(account, name) VALUES (\(user), \(name)) ON CONFLICT DO NOTHING")
        } else {
            try await rows("DELETE FROM mailbox_subscriptions WHERE account = \(user) AND name = \(name)")
        }
    }

    // MARK: - Quotas, aliases, catch-alls (directory: every node's snapshot follows)

    public func setQuota(user: String, bytes: Int?) async throws(StoreError) {
        guard try await !rows("UPDATE users SET quota_bytes = \(bytes.map(Int64.init)) WHERE address = \(user) RETURNING 1").isEmpty else {
            throw .notFound("user \(user)")
        }
        if followsDirectory { try await refreshDirectory() }
    }

    public func addAlias(_ address: String, targets: [String]) async throws(StoreError) {
        guard let at = address.lastIndex(of: "@") else { throw .invalid("\(address) has no domain") }
        let domain = address[address.index(after: at)...].lowercased()
        try await transaction { connection in
            guard try await !connection.query("SELECT 1 FROM domains WHERE name = \(domain)", logger: self.logger).collect().isEmpty else {
                throw StoreError.notFound("domain \(domain) (an alias must be in a hosted domain)")
            }
            try await connection.query(
                """
                INSERT INTO aliases(address, target) SELECT \(address.lowercased()), target FROM unnest(\(targets)::text[]) AS target
                ON CONFLICT DO NOTHING
                """, logger: self.logger)
        }
        if followsDirectory { try await refreshDirectory() }
    }

    public func removeAlias(_ address: String) async throws(StoreError) -> Bool {
        let removed = try await !rows("DELETE FROM aliases WHERE address = \(address.lowercased()) RETURNING 1").isEmpty
        if removed, followsDirectory { try await refreshDirectory() }
        return removed
    }

    public func aliases() async throws(StoreError) -> [(address: String, targets: [String])] {
        // Bytewise order, as SQLite's default BINARY collation sorts the targets.
        let rows = try await decoded("SELECT address, target FROM aliases ORDER BY address, target COLLATE \"C\"") { try $0.decode((String, String).self) }
        var out: [(address: String, targets: [String])] = []
        for (address, target) in rows {
            if out.last?.address == address { out[out.count - 1].targets.append(target) } else { out.append((address, [target])) }
        }
        return out
    }

    public func setCatchAll(domain: String, target: String?) async throws(StoreError) {
        try await transaction { connection in
            guard try await !connection.query("SELECT 1 FROM domains WHERE name = \(domain.lowercased())", logger: self.logger).collect().isEmpty else {
                throw StoreError.notFound("domain \(domain)")
            }
            if let target {
                try await connection.query(
                    """
                    INSERT INTO catch_alls(domain, target) VALUES (\(domain.lowercased()), \(target))
                    ON CONFLICT (domain) DO UPDATE SET target = EXCLUDED.target
                    """, logger: self.logger)
            } else {
                try await connection.query("DELETE FROM catch_alls WHERE domain = \(domain.lowercased())", logger: self.logger)
            }
        }
        if followsDirectory { try await refreshDirectory() }
    }
}
