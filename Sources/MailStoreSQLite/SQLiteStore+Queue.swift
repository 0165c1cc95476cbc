import Foundation
import GRDB
import MailCore
import MailStore

extension SQLiteStore: QueueRepository {
    /// Durable once this returns: the group-commit spool has committed the transaction that
    /// holds the message (and possibly many others that arrived in the same window).
    public func enqueue(_ message: IncomingMessage, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        spool.submit([message], completion: completion)
    }

    public func enqueue(group: [IncomingMessage], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        guard !group.isEmpty else { return completion(.success(())) }
        spool.submit(group, completion: completion)
    }

    public func listQueue() async throws(StoreError) -> [QueuedMessage] {
        try await read { db in
            // A message whose recipients were removed but whose content mailboxes still hold is
            // no longer in the queue.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.messageColumns) FROM messages m
                    WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id) ORDER BY created_at, id
                    """)
            let recipients = try Self.recipientsByMessage(db, sql: "SELECT * FROM recipients ORDER BY message_id, position")
            return rows.map { Self.message(from: $0, recipients: recipients[$0["id"] as String] ?? []) }
        }
    }

    public func queuedMessage(id: String) async throws(StoreError) -> QueuedMessage? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(Self.messageColumns) FROM messages m
                        WHERE id = ? AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id)
                        """, arguments: [id])
            else {
                return nil
            }
            let recipients = try Self.recipientsByMessage(
                db, sql: "SELECT * FROM recipients WHERE message_id = ? ORDER BY position", arguments: [id])
            return Self.message(from: row, recipients: recipients[id] ?? [])
        }
    }

    public func content(id: String) async throws(StoreError) -> [UInt8]? {
        try await read { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT content FROM messages WHERE id = ? AND content_deleted_at IS NULL"), arguments: [id])
                .map { Array($0) }
        }
    }

    public func contents(ids: [String]) async throws(StoreError) -> [String: [UInt8]] {
        try await read { db in
            var out: [String: [UInt8]] = [:]
            let statement = try db.cachedStatement(sql: "SELECT content FROM messages WHERE id = ? AND content_deleted_at IS NULL")
            for id in ids {
                if let data = try Data.fetchOne(statement, arguments: [id]) { out[id] = Array(data) }
            }
            return out
        }
    }

    public func removeQueued(id: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM recipients WHERE message_id = ?", arguments: [id])
            let removedRecipients = db.changesCount
            // Content that mailboxes hold stays (it is stored once for them all).
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM mailbox_messages WHERE message_id = ? LIMIT 1", arguments: [id]) == true {
                return removedRecipients > 0
            }
            try db.execute(sql: "DELETE FROM messages WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    static let messageColumns =
        "id, message_id, reverse_path, size, created_at, client_address, helo, dsn_ret, envid, body_type, smtputf8, auth_account, quarantine"

    static func message(from row: Row, recipients: [QueuedRecipient]) -> QueuedMessage {
        QueuedMessage(
            id: row["id"], messageID: row["message_id"], from: reversePath(row["reverse_path"]), size: row["size"],
            createdAt: row["created_at"], recipients: recipients, clientAddress: row["client_address"],
            heloName: row["helo"], dsnReturn: (row["dsn_ret"] as String?).flatMap(DSNReturn.init(rawValue:)), envelopeID: row["envid"],
            bodyType: (row["body_type"] as String?).flatMap(BodyType.init(rawValue:)),
            smtpUTF8: row["smtputf8"], authenticatedAs: row["auth_account"], quarantine: row["quarantine"])
    }

    /// The stored reverse path ("" for `<>`), typed once here so nothing downstream re-parses it.
    static func reversePath(_ text: String) -> ReversePath {
        guard !text.isEmpty, let path = try? ReversePath(parsing: "<\(text)>", allowUTF8: true) else { return .null }
        return path
    }

    /// NOTIFY and ORCPT as stored (their RFC 3461 parameter text).
    static func notify(_ text: String?) -> DSNNotify? { text.flatMap(DSNNotify.init(parameter:)) }
    static func originalRecipient(_ text: String?) -> OriginalRecipient? { text.flatMap(OriginalRecipient.init(parameter:)) }

    static func recipientsByMessage(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [String: [QueuedRecipient]] {
        var result: [String: [QueuedRecipient]] = [:]
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            let recipient = QueuedRecipient(
                address: row["address"], state: RecipientState(rawValue: row["state"]) ?? .queued, attempts: row["attempts"],
                lastReply: row["last_reply"], notify: notify(row["notify"]), originalRecipient: originalRecipient(row["orcpt"]),
                nextAttemptAt: row["next_attempt_at"])
            result[row["message_id"], default: []].append(recipient)
        }
        return result
    }

    /// Writes one message and its recipients inside the caller's transaction.
    /// Stores `message` and its recipients. With `subaddressSeparator` (the spool's commit) and
    /// `deliverToMailboxesAtOnce`, each recipient that is a hosted mailbox with room is delivered
    /// in this transaction — recorded as one successful attempt with the event and mailbox row
    /// the scheduler's local delivery would write — and the rest are queued. Returns what it
    /// delivered and whether anything waits for the scheduler.
    @discardableResult
    static func insert(_ message: IncomingMessage, into db: Database, subaddressSeparator: String? = nil) throws -> CommitReport {
        let q = message.queued
        var report = CommitReport()
        // Cached statements: the hot path never re-parses SQL.
        try db.cachedStatement(
            sql: """
                INSERT INTO messages(id, message_id, reverse_path, size, created_at, client_address, helo, dsn_ret,
                                     envid, body_type, smtputf8, auth_account, quarantine, content, request_id, request_first_recipient,
                                     subject, categories, custom_args, asm_group, sandbox, send_options)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                q.id, q.messageID, q.from.description, q.size, q.createdAt, q.clientAddress, q.heloName, q.dsnReturn?.rawValue, q.envelopeID,
                q.bodyType?.rawValue, q.smtpUTF8, q.authenticatedAs, q.quarantine, message.content, message.request?.requestID,
                message.request?.firstRecipient,
                // Only our own senders' messages are listed by the activity API: others need no subject row.
                q.authenticatedAs == nil ? nil : message.content.withUnsafeBytes { HeaderFields.firstValue(named: "Subject", in: $0) }.map { String($0.prefix(998)) },
                message.tags.categories.isEmpty ? nil : Self.json(message.tags.categories),
                message.tags.customArgs.isEmpty ? nil : Self.json(message.tags.customArgs), message.tags.asmGroupID, message.sandbox,
                message.sendOptions,
            ])
        // A scheduled message (`send_at`) waits in the queue like a deferred one.
        let due = max(q.createdAt, message.notBefore ?? q.createdAt)
        var dropped = message.dropped
        if let check = message.suppressionCheck, check.bypass != .all {
            let addresses = q.recipients.map { $0.address.lowercased() }
            let found = try suppressedAddresses(db, account: check.account, addresses: addresses, group: message.tags.asmGroupID)
            check.apply(found: found, addresses: addresses, to: &dropped)
        }
        report.dropped = dropped.count
        for (position, recipient) in q.recipients.enumerated() {
            // A suppressed recipient is stored as dropped, with its reason: never sent, no DSN.
            // A sandbox message's recipients are final at once: kept, never sent.
            let drop = dropped[position]
            var mailbox: MailboxDelivery? = nil
            if drop == nil, !message.sandbox, message.deliverToMailboxesAtOnce, let subaddressSeparator,
                case .mailbox(let user, overQuota: false) = try resolveLocal(db, recipient.address, subaddressSeparator: subaddressSeparator)
            {
                mailbox = MailboxDelivery(user: user, recipient: recipient.address, reversePath: q.from.description, quarantined: q.quarantine != nil)
            }
            let state = drop != nil ? "dropped" : message.sandbox || mailbox != nil ? "delivered" : "queued"
            if state == "queued" { report.leftQueued = true }
            try db.cachedStatement(
                sql: """
                    INSERT INTO recipients(message_id, position, address, state, notify, orcpt, next_attempt_at, last_reply, attempts)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    q.id, position, recipient.address, state, recipient.notify?.description,
                    recipient.originalRecipient?.description, state == "queued" ? due : nil,
                    drop ?? (message.sandbox ? Self.sandboxReply : mailbox?.reply), mailbox == nil ? 0 : 1,
                ])
            try insertEvent(
                db, at: q.createdAt, messageID: q.id, recipient: recipient.address, type: RecipientState.queued.rawValue, mxHost: nil, tls: nil,
                reply: nil, position: position)
            if let mailbox {
                try insertEvent(
                    db, at: q.createdAt, messageID: q.id, recipient: recipient.address, type: RecipientState.delivered.rawValue, mxHost: "local",
                    tls: nil, reply: mailbox.reply, position: position, countsAttempt: true)
                try insertMailboxMessage(db, messageID: q.id, position: position, delivery: mailbox, at: q.createdAt)
                report.delivered.append(
                    CommitReport.Delivery(messageID: q.id, recipient: recipient.address, user: mailbox.user, folder: mailbox.folder, reply: mailbox.reply))
            } else if let drop {
                try insertEvent(
                    db, at: q.createdAt, messageID: q.id, recipient: recipient.address, type: RecipientState.dropped.rawValue, mxHost: nil,
                    tls: nil, reply: drop, position: position)
            } else if message.sandbox {
                try insertEvent(
                    db, at: q.createdAt, messageID: q.id, recipient: recipient.address, type: RecipientState.delivered.rawValue, mxHost: "sandbox",
                    tls: nil, reply: Self.sandboxReply, position: position)
            }
        }
        if message.sandbox, let account = q.authenticatedAs { try pruneSandbox(db, account: account) }
        if !dropped.isEmpty, !message.sandbox { try deleteContentIfUnreferenced(db, messageID: q.id, at: q.createdAt) }
        return report
    }
}

extension SQLiteStore: DeliveryQueue {
    public func leaseDue(now: Int, leaseUntil: Int, limit: Int) async throws(StoreError) -> [LeasedMessage] {
        try await writeUnsynced { db in
            // `delivering` rows carry their lease's end in next_attempt_at, so an expired lease
            // (a crash, a stopped node) makes the recipient due again by the same test.
            // One statement claims the due rows and returns them (SQLite ≥ 3.35 RETURNING).
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE recipients SET state = 'delivering', next_attempt_at = ?
                        WHERE rowid IN (
                            SELECT rowid FROM recipients
                            WHERE state IN ('queued', 'deferred', 'delivering') AND next_attempt_at <= ?
                            ORDER BY next_attempt_at LIMIT ?)
                        RETURNING message_id, position, address, notify, orcpt, attempts, delay_notified
                        """), arguments: [leaseUntil, now, limit])
            var byMessage: [String: [LeasedRecipient]] = [:]
            var order: [String] = []
            for row in rows {
                let id: String = row["message_id"]
                if byMessage[id] == nil { order.append(id) }
                byMessage[id, default: []].append(
                    LeasedRecipient(
                        position: row["position"], address: row["address"], notify: Self.notify(row["notify"]),
                        originalRecipient: Self.originalRecipient(row["orcpt"]),
                        attempts: row["attempts"], delayNotified: row["delay_notified"]))
            }
            for id in order { byMessage[id]?.sort { $0.position < $1.position } }
            var leased: [LeasedMessage] = []
            for id in order {
                guard
                    let row = try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT \(Self.messageColumns) FROM messages WHERE id = ?"), arguments: [id])
                else { continue }
                leased.append(LeasedMessage(message: Self.message(from: row, recipients: []), recipients: byMessage[id] ?? []))
            }
            return leased
        }
    }

    public func nextDueTime() async throws(StoreError) -> Int? {
        try await read { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(next_attempt_at) FROM recipients WHERE state IN ('queued', 'deferred', 'delivering')"))
        }
    }

    public func record(_ outcomes: [DeliveryOutcome], bounces: [IncomingMessage], at: Int) async throws(StoreError) {
        try await writeUnsynced { db in
            for outcome in outcomes {
                try db.cachedStatement(
                    sql: """
                        UPDATE recipients SET state = ?, attempts = attempts + ?, last_reply = COALESCE(?, last_reply),
                            next_attempt_at = ?, delay_notified = MAX(delay_notified, ?)
                        WHERE message_id = ? AND position = ?
                        """
                ).execute(arguments: [
                    outcome.state.rawValue, outcome.countsAsAttempt ? 1 : 0, outcome.reply, outcome.nextAttemptAt, outcome.delayNotified,
                    outcome.messageID, outcome.position,
                ])
                if let delivery = outcome.mailbox {
                    try Self.insertMailboxMessage(db, messageID: outcome.messageID, position: outcome.position, delivery: delivery, at: at)
                }
                if !outcome.expansion.isEmpty {
                    try Self.insertExpansion(db, messageID: outcome.messageID, position: outcome.position, targets: outcome.expansion, at: at)
                }
                if outcome.state == .bounced, let reply = outcome.reply, let list = SuppressionList.forFailure(reply: reply) {
                    try Self.suppressFailed(db, messageID: outcome.messageID, address: outcome.recipient, list: list, reply: reply, at: at)
                }
                if outcome.countsAsAttempt {
                    try Self.insertEvent(
                        db, at: at, messageID: outcome.messageID, recipient: outcome.recipient, type: outcome.state.rawValue,
                        mxHost: outcome.mxHost, tls: outcome.tls, reply: outcome.reply, position: outcome.position, countsAttempt: true)
                }
            }
            for bounce in bounces { try Self.insert(bounce, into: db) }
            for messageID in Set(outcomes.lazy.filter { $0.state == .delivered || $0.state == .bounced }.map(\.messageID)) {
                try Self.deleteContentIfUnreferenced(db, messageID: messageID, at: at)
            }
        }
        let users = outcomes.compactMap { $0.mailbox?.user }
        if !users.isEmpty { mailboxSignals.changed(users) }
    }

    static let sandboxReply = "250 2.0.0 Kept in the sandbox inbox; not sent"

    /// An account's sandbox inbox keeps its newest `sandboxInboxSize` messages.
    static func pruneSandbox(_ db: Database, account: String) throws {
        let old = try String.fetchAll(
            db.cachedStatement(sql: "SELECT id FROM messages WHERE sandbox AND auth_account = ? ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?"),
            arguments: [account, sandboxInboxSize])
        for id in old {
            try db.execute(sql: "DELETE FROM recipients WHERE message_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM events WHERE message_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM messages WHERE id = ?", arguments: [id])
        }
    }

    /// A permanent failure of an account's message puts the address on that account's bounces,
    /// blocks or invalid_emails list, in the transaction that records the failure.
    static func suppressFailed(_ db: Database, messageID: String, address: String, list: SuppressionList, reply: String, at: Int) throws {
        guard let account = try String.fetchOne(db.cachedStatement(sql: "SELECT auth_account FROM messages WHERE id = ?"), arguments: [messageID])
        else { return }
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO suppressions(account, list, group_id, email, created_at, reason, status) VALUES (?, ?, 0, ?, ?, ?, ?)"
        ).execute(arguments: [account, list.rawValue, address.lowercased(), at, reply, EnhancedStatusText(reply: reply)?.description])
    }

    /// Overwrites a message's content once nothing refers to it: every recipient delivered or
    /// bounced (bounces are their own messages by then) and no mailbox entry. With
    /// `secure_delete` on, SQLite zeroes the freed pages, so the bytes do not linger in the file.
    /// An account's own message keeps its header section (when it ends within
    /// `keptHeaderLimit` bytes) for the sender's activity page: who, what, which
    /// authentication, never the body. Mail received for mailboxes keeps nothing.
    static func deleteContentIfUnreferenced(_ db: Database, messageID: String, at: Int) throws {
        // A sandbox inbox keeps its messages' content until they are pruned.
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT sandbox FROM messages WHERE id = ?"), arguments: [messageID]) == true { return }
        let pending = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM recipients WHERE message_id = ? AND state NOT IN ('delivered', 'bounced', 'dropped') LIMIT 1"),
            arguments: [messageID]) ?? false
        guard !pending else { return }
        let held = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM mailbox_messages WHERE message_id = ? LIMIT 1"), arguments: [messageID]) ?? false
        guard !held else { return }
        // instr over BLOBs counts bytes: the header ends with the CRLF before the empty line.
        try db.cachedStatement(
            sql: """
                UPDATE messages SET content_deleted_at = ?1, content = CASE
                    WHEN auth_account IS NULL OR instr(substr(content, 1, ?3), X'0D0A0D0A') = 0 THEN X''
                    ELSE substr(content, 1, instr(substr(content, 1, ?3), X'0D0A0D0A') + 1) END
                WHERE id = ?2 AND content_deleted_at IS NULL
                """
        ).execute(arguments: [at, messageID, Self.keptHeaderLimit])
    }

    /// What the send API kept with a message (`batch_id`, `tracking_settings`), as JSON.
    public func sendOptions(id: String) async throws(StoreError) -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT send_options FROM messages WHERE id = ?", arguments: [id]) }
    }

    /// The most of a header section kept after the content is deleted.
    public static let keptHeaderLimit = 64 * 1024

    /// What is stored of a message: all of it, or (once the content was deleted) the header
    /// section an account's message keeps; nil when there is nothing.
    public func storedContent(id: String) async throws(StoreError) -> StoredContent? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT content, content_deleted_at FROM messages WHERE id = ?", arguments: [id]) else {
                return nil
            }
            let bytes = Array(row["content"] as Data? ?? Data())
            if let deletedAt = row["content_deleted_at"] as Int? { return bytes.isEmpty ? nil : .header(bytes, deletedAt: deletedAt) }
            return .whole(bytes)
        }
    }

    /// When the content was deleted (nil while it is kept).
    public func contentDeletedAt(id: String) async throws(StoreError) -> Int? {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT content_deleted_at FROM messages WHERE id = ?", arguments: [id])
        }
    }

    public func retryNow(id: String?, at: Int) async throws(StoreError) -> Int {
        try await write { db in
            if let id {
                try db.execute(
                    sql: "UPDATE recipients SET next_attempt_at = ? WHERE state IN ('queued', 'deferred') AND message_id = ?", arguments: [at, id])
            } else {
                try db.execute(sql: "UPDATE recipients SET next_attempt_at = ? WHERE state IN ('queued', 'deferred')", arguments: [at])
            }
            return db.changesCount
        }
    }

    public func releaseLeases(at: Int) async throws(StoreError) -> Int {
        try await writeUnsynced { db in
            try db.execute(sql: "UPDATE recipients SET next_attempt_at = ? WHERE state = 'delivering'", arguments: [at])
            return db.changesCount
        }
    }

    public func renewLeases(until: Int) async throws(StoreError) -> Int {
        try await writeUnsynced { db in
            try db.execute(sql: "UPDATE recipients SET next_attempt_at = ? WHERE state = 'delivering' AND next_attempt_at < ?", arguments: [until, until])
            return db.changesCount
        }
    }

    public func events(messageID: String) async throws(StoreError) -> [QueueEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE message_id = ? ORDER BY id", arguments: [messageID]).map {
                Self.event(from: $0)
            }
        }
    }

    static func event(from row: Row) -> QueueEvent {
        QueueEvent(
            id: row["id"], at: row["at"], messageID: row["message_id"], recipient: row["recipient"], type: row["type"], mxHost: row["mx_host"],
            tls: row["tls"], reply: row["reply"], position: row["position"], attempt: row["attempt"], details: row["details"])
    }

    /// One event row. `countsAttempt`: the row records an attempt, numbered by the recipient's
    /// attempts so far (read in the same transaction, after the outcome's update).
    static func insertEvent(
        _ db: Database, at: Int, messageID: String, recipient: String, type: String, mxHost: String?, tls: String?, reply: String?,
        position: Int? = nil, countsAttempt: Bool = false
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO events(at, message_id, recipient, type, mx_host, tls, reply, position, attempt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? THEN (SELECT attempts FROM recipients WHERE message_id = ? AND position = ?) END)
                """
        ).execute(arguments: [at, messageID, recipient, type, mxHost, tls, reply, position, countsAttempt, messageID, position])
    }

    /// JSON text of a stored list or map (sorted keys, so equal values store equal text).
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? ""
    }
}

extension SQLiteStore: SigningKeyRepository {
    public func addSigningKey(_ key: StoredSigningKey) async throws(StoreError) {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM signing_keys WHERE domain = ? AND selector = ?", arguments: [key.domain, key.selector]) == true {
                throw StoreError.alreadyExists("DKIM selector \(key.selector) of \(key.domain)")
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [key.domain]) == true else {
                throw StoreError.notFound("domain \(key.domain)")
            }
            try db.execute(
                sql: "INSERT INTO signing_keys(domain, selector, algorithm, private_key, created_at, state) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [key.domain.lowercased(), key.selector, key.algorithm, key.privateKey, key.createdAt, key.state.rawValue])
        }
    }

    public func signingKeys(domain: String) async throws(StoreError) -> [StoredSigningKey] {
        try await read { db in try Self.signingKeys(db, domain: domain, activeOnly: false) }
    }

    public func activeSigningKeys(domain: String) throws(StoreError) -> [StoredSigningKey] {
        do {
            return try pool.read { db in try Self.signingKeys(db, domain: domain, activeOnly: true) }
        } catch {
            throw Self.storeError(error)
        }
    }

    static func signingKeys(_ db: Database, domain: String, activeOnly: Bool) throws -> [StoredSigningKey] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT * FROM signing_keys WHERE domain = ?\(activeOnly ? " AND state = 'active'" : "") ORDER BY created_at, selector"),
            arguments: [domain]
        ).map {
            StoredSigningKey(
                domain: $0["domain"], selector: $0["selector"], algorithm: $0["algorithm"], privateKey: $0["private_key"], createdAt: $0["created_at"],
                state: StoredSigningKey.State(rawValue: $0["state"]) ?? .retired)
        }
    }

    public func retireSigningKeys(domain: String, keeping selectors: [String]) async throws(StoreError) {
        try await write { db in
            for key in try Self.signingKeys(db, domain: domain, activeOnly: true) where !selectors.contains(key.selector) {
                try db.execute(sql: "UPDATE signing_keys SET state = 'retired' WHERE domain = ? AND selector = ?", arguments: [domain, key.selector])
            }
        }
    }

    public func removeSigningKey(domain: String, selector: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM signing_keys WHERE domain = ? AND selector = ?", arguments: [domain, selector])
            return db.changesCount > 0
        }
    }
}
