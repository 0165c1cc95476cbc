import Foundation
import GRDB
import MailCore
import MailStore

/// IMAP's side of the mailbox store: folders, subscriptions, APPEND, flags, copies and the
/// change log that CONDSTORE and QRESYNC read (RFC 7162). Every change raises the folder's
/// HIGHESTMODSEQ and wakes the user's sessions after it commits.
extension SQLiteStore {
    public func createMailbox(user: String, name: String) async throws(StoreError) -> Mailbox {
        let id: Int = try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM mailboxes WHERE user = ? AND name = ?", arguments: [user, name]) == true {
                throw StoreError.alreadyExists("mailbox \(name)")
            }
            // UIDVALIDITY must grow when a name is used again (RFC 9051 §2.3.1.1): the clock,
            // and past every value this user has had.
            let largest = try Int.fetchOne(db, sql: "SELECT MAX(uidvalidity) FROM mailboxes WHERE user = ?", arguments: [user]) ?? 0
            let validity = max(Int(Date().timeIntervalSince1970), largest + 1)
            try db.execute(sql: "INSERT INTO mailboxes(user, name, uidvalidity) VALUES (?, ?, ?)", arguments: [user, name, validity])
            return Int(db.lastInsertedRowID)
        }
        guard let made = try await mailboxes(user: user).first(where: { $0.id == id }) else { throw .notFound("mailbox \(name)") }
        return made
    }

    public func deleteMailbox(user: String, name: String) async throws(StoreError) {
        try await write { db in
            guard let id = try Int.fetchOne(db, sql: "SELECT id FROM mailboxes WHERE user = ? AND name = ?", arguments: [user, name]) else {
                throw StoreError.notFound("mailbox \(name)")
            }
            let uids = try Int.fetchAll(db, sql: "SELECT uid FROM mailbox_messages WHERE mailbox_id = ?", arguments: [id])
            _ = try Self.expunge(db, mailboxID: id, uids: uids)
            try db.execute(sql: "DELETE FROM mailboxes WHERE id = ?", arguments: [id])
        }
        mailboxSignals.changed([user])
    }

    public func renameMailbox(user: String, from: String, to: String) async throws(StoreError) {
        try await write { db in
            guard let id = try Int.fetchOne(db, sql: "SELECT id FROM mailboxes WHERE user = ? AND name = ?", arguments: [user, from]) else {
                throw StoreError.notFound("mailbox \(from)")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM mailboxes WHERE user = ? AND name = ?", arguments: [user, to]) == true {
                throw StoreError.alreadyExists("mailbox \(to)")
            }
            let largest = try Int.fetchOne(db, sql: "SELECT MAX(uidvalidity) FROM mailboxes WHERE user = ?", arguments: [user]) ?? 0
            if from.uppercased() == "INBOX" {
                // RFC 9051 §6.3.6: INBOX's messages move to a new folder; INBOX stays, empty.
                let validity = max(Int(Date().timeIntervalSince1970), largest + 1)
                try db.execute(sql: "INSERT INTO mailboxes(user, name, uidvalidity) VALUES (?, ?, ?)", arguments: [user, to, validity])
                let target = Int(db.lastInsertedRowID)
                let uids = try Int.fetchAll(db, sql: "SELECT uid FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid", arguments: [id])
                _ = try Self.copy(db, from: id, uids: uids, to: target, move: true)
                return
            }
            // The folder and everything below it; each renamed folder's UIDVALIDITY grows,
            // since a client may hold UIDs under the new name from an earlier folder.
            let prefix = from + "/"
            let rows = try Row.fetchAll(db, sql: "SELECT id, name FROM mailboxes WHERE user = ? AND (name = ? OR substr(name, 1, ?) = ?)", arguments: [user, from, prefix.count, prefix])
            var validity = max(Int(Date().timeIntervalSince1970), largest + 1)
            for row in rows {
                let name: String = row["name"]
                let renamed = to + name.dropFirst(from.count)
                try db.execute(sql: "UPDATE mailboxes SET name = ?, uidvalidity = ? WHERE id = ?", arguments: [renamed, validity, row["id"] as Int])
                try db.execute(sql: "UPDATE mailbox_subscriptions SET name = ? WHERE user = ? AND name = ?", arguments: [renamed, user, name])
                validity += 1
            }
        }
        mailboxSignals.changed([user])
    }

    public func subscriptions(user: String) async throws(StoreError) -> [String] {
        try readNow(isolated: false) { db in try String.fetchAll(db, sql: "SELECT name FROM mailbox_subscriptions WHERE user = ? ORDER BY name", arguments: [user]) }
    }

    public func setSubscribed(user: String, name: String, _ subscribed: Bool) async throws(StoreError) {
        try await write { db in
            if subscribed {
                try db.execute(sql: "INSERT OR IGNORE INTO mailbox_subscriptions(user, name) VALUES (?, ?)", arguments: [user, name])
            } else {
                try db.execute(sql: "DELETE FROM mailbox_subscriptions WHERE user = ? AND name = ?", arguments: [user, name])
            }
        }
    }

    public func append(mailboxID: Int, content: [UInt8], flags: [String], internalDate: Int) async throws(StoreError) -> MailboxMessage {
        let (message, user): (MailboxMessage, String) = try await write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT user, uidnext, highest_modseq FROM mailboxes WHERE id = ?"), arguments: [mailboxID]) else {
                throw StoreError.notFound("mailbox")
            }
            let user: String = row["user"]
            try Self.checkQuota(db, user: user, adding: content.count)
            // The content is a stored message like any other: it goes when no folder holds it.
            let id = QueueID.make()
            let now = Int(Date().timeIntervalSince1970)
            try db.execute(
                sql: "INSERT INTO messages(id, message_id, reverse_path, size, created_at, content) VALUES (?, ?, '', ?, ?, ?)",
                arguments: [id, HeaderFields.firstValue(named: "Message-ID", in: content), content.count, now, Data(content)])
            let uid: Int = row["uidnext"]
            let modseq: Int = row["highest_modseq"] + 1
            try db.execute(
                sql: """
                    INSERT INTO mailbox_messages(mailbox_id, uid, message_id, prefix, size, internal_date, flags, modseq)
                    VALUES (?, ?, ?, X'', ?, ?, ?, ?)
                    """, arguments: [mailboxID, uid, id, content.count, internalDate, flags.joined(separator: " "), modseq])
            try db.cachedStatement(sql: "UPDATE mailboxes SET uidnext = ?, highest_modseq = ? WHERE id = ?").execute(arguments: [uid + 1, modseq, mailboxID])
            try db.cachedStatement(sql: "UPDATE users SET used_bytes = used_bytes + ? WHERE address = ?").execute(arguments: [content.count, user])
            return (MailboxMessage(uid: uid, messageID: id, size: content.count, internalDate: internalDate, flags: flags, modSeq: modseq), user)
        }
        mailboxSignals.changed(user: user, mailboxID: mailboxID, modSeq: message.modSeq)
        return message
    }

    /// Refuses a change that would take `user` past their quota (RFC 9208 §4.1 `OVERQUOTA`).
    static func checkQuota(_ db: Database, user: String, adding bytes: Int) throws {
        guard let quota = try Int.fetchOne(db.cachedStatement(sql: "SELECT quota_bytes FROM users WHERE address = ?"), arguments: [user]) else { return }
        let used = try usedBytes(db, user: user)
        if used + bytes > quota {
            throw StoreError.limitReached(UsageLimit(period: "quota", limit: quota, perRecipient: false, resetsAt: 0, name: "mailbox quota"))
        }
    }

    public func storeFlags(mailboxID: Int, uids: [Int], change: FlagChange, unchangedSince: Int?) async throws(StoreError) -> FlagStoreResult {
        guard !uids.isEmpty else { return FlagStoreResult(updated: [], modified: []) }
        // Not fsynced on its own (like Dovecot's index, unlike its mail files): a power loss
        // can undo the last flag changes, never lose a message; the next synced commit (an
        // APPEND, a delivery) makes them durable, and WAL keeps them in order.
        let (result, user): (FlagStoreResult, String?) = try await writeUnsynced { db in
            guard let highest = try Int.fetchOne(db.cachedStatement(sql: "SELECT highest_modseq FROM mailboxes WHERE id = ?"), arguments: [mailboxID]) else {
                throw StoreError.notFound("mailbox")
            }
            // One MODSEQ for the whole STORE (RFC 7162 §3.1.3 allows it): every changed message
            // gets it, and it is the folder's new HIGHESTMODSEQ.
            let modseq = highest + 1
            var updated: [MailboxMessage] = []
            var modified: [Int] = []
            let select = try db.cachedStatement(
                sql: "SELECT uid, message_id, size, internal_date, flags, modseq FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?")
            let update = try db.cachedStatement(sql: "UPDATE mailbox_messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?")
            for uid in uids {
                guard let row = try Row.fetchOne(select, arguments: [mailboxID, uid]) else { continue }
                guard let (message, write) = change.outcome(for: Self.mailboxMessage(row), unchangedSince: unchangedSince, modSeq: modseq) else {
                    modified.append(uid)
                    continue
                }
                if write { try update.execute(arguments: [message.flags.joined(separator: " "), modseq, mailboxID, uid]) }
                updated.append(message)
            }
            let changed = updated.contains { $0.modSeq == modseq }
            if changed { try db.cachedStatement(sql: "UPDATE mailboxes SET highest_modseq = ? WHERE id = ?").execute(arguments: [modseq, mailboxID]) }
            let user = changed ? try String.fetchOne(db.cachedStatement(sql: "SELECT user FROM mailboxes WHERE id = ?"), arguments: [mailboxID]) : nil
            return (FlagStoreResult(updated: updated, modified: modified), user)
        }
        if let user, let modSeq = result.updated.map(\.modSeq).max() { mailboxSignals.changed(user: user, mailboxID: mailboxID, modSeq: modSeq) }
        return result
    }

    /// The columns `mailboxMessage(_:)` reads, in its order (by index: no name lookups per row).
    static let mailboxMessageColumns = "uid, message_id, size, internal_date, flags, modseq"

    static func mailboxMessage(_ row: Row) -> MailboxMessage {
        let flags: String = row[4]
        return MailboxMessage(
            uid: row[0], messageID: row[1], size: row[2], internalDate: row[3],
            flags: flags.isEmpty ? [] : flags.split(separator: " ").map(String.init), modSeq: row[5])
    }

    public func copy(from: Int, uids: [Int], to: Int, move: Bool) async throws(StoreError) -> [(source: Int, copy: Int)] {
        guard !uids.isEmpty else { return [] }
        let (pairs, user): ([(source: Int, copy: Int)], String?) = try await write { db in
            let pairs = try Self.copy(db, from: from, uids: uids, to: to, move: move)
            return (pairs, try String.fetchOne(db, sql: "SELECT user FROM mailboxes WHERE id = ?", arguments: [to]))
        }
        if let user, !pairs.isEmpty { mailboxSignals.changed([user]) }
        return pairs
    }

    static func copy(_ db: Database, from: Int, uids: [Int], to: Int, move: Bool) throws -> [(source: Int, copy: Int)] {
        guard let target = try Row.fetchOne(db.cachedStatement(sql: "SELECT user, uidnext, highest_modseq FROM mailboxes WHERE id = ?"), arguments: [to]) else {
            throw StoreError.notFound("mailbox")
        }
        let user: String = target["user"]
        var uid: Int = target["uidnext"]
        let modseq: Int = target["highest_modseq"] + 1
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT uid, message_id, prefix, size, internal_date, flags FROM mailbox_messages
                WHERE mailbox_id = ? AND uid IN (\(uids.map { _ in "?" }.joined(separator: ","))) ORDER BY uid
                """, arguments: StatementArguments([from] + uids))
        if !move { try checkQuota(db, user: user, adding: rows.reduce(0) { $0 + ($1["size"] as Int) }) }
        var pairs: [(source: Int, copy: Int)] = []
        for row in rows {
            let size: Int = row["size"]
            try db.execute(
                sql: """
                    INSERT INTO mailbox_messages(mailbox_id, uid, message_id, prefix, size, internal_date, flags, modseq)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [to, uid, row["message_id"] as String, row["prefix"] as Data, size, row["internal_date"] as Int, row["flags"] as String, modseq])
            try db.cachedStatement(sql: "UPDATE users SET used_bytes = used_bytes + ? WHERE address = ?").execute(arguments: [size, user])
            pairs.append((row["uid"], uid))
            uid += 1
        }
        guard !pairs.isEmpty else { return [] }
        try db.cachedStatement(sql: "UPDATE mailboxes SET uidnext = ?, highest_modseq = ? WHERE id = ?").execute(arguments: [uid, modseq, to])
        // A move is a copy and an expunge in one transaction (RFC 6851 §3.3): never both, never neither.
        if move { _ = try expunge(db, mailboxID: from, uids: pairs.map(\.source)) }
        return pairs
    }

    public func changes(mailboxID: Int, since modSeq: Int) async throws(StoreError) -> MailboxChanges {
        try readNow { db in
            let highest = try Int.fetchOne(db.cachedStatement(sql: "SELECT highest_modseq FROM mailboxes WHERE id = ?"), arguments: [mailboxID]) ?? 0
            guard highest > modSeq else { return MailboxChanges(messages: [], expunged: [], highestModSeq: highest) }
            let messages = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT \(Self.mailboxMessageColumns) FROM mailbox_messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid"),
                arguments: [mailboxID, modSeq]
            ).map(Self.mailboxMessage)
            let expunged = try Int.fetchAll(
                db.cachedStatement(sql: "SELECT uid FROM mailbox_expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid"), arguments: [mailboxID, modSeq])
            return MailboxChanges(messages: messages, expunged: expunged, highestModSeq: highest)
        }
    }

    public func claimRecent(mailboxID: Int) async throws(StoreError) -> Int {
        // Most SELECTs find nothing new to claim: a read, and no write transaction.
        let (mark, next): (Int, Int) = try readNow(isolated: false) { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT recent_uid, uidnext FROM mailboxes WHERE id = ?"), arguments: [mailboxID])
            return (row?[0] ?? 0, row?[1] ?? 1)
        }
        if mark >= next - 1 { return mark }
        return try await writeUnsynced { db in
            let before = try Int.fetchOne(db.cachedStatement(sql: "SELECT recent_uid FROM mailboxes WHERE id = ?"), arguments: [mailboxID]) ?? 0
            try db.cachedStatement(sql: "UPDATE mailboxes SET recent_uid = uidnext - 1 WHERE id = ?").execute(arguments: [mailboxID])
            return before
        }
    }
}
