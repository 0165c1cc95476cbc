import Foundation
import Logging
import MailCore
import MailStore
import NIOCore
import PostgresNIO

/// The queue on PostgreSQL: messages and recipients as SQLite's store keeps them, written by the
/// group-commit spool (`PostgresCommitSpool`), leased with `FOR UPDATE SKIP LOCKED` so two nodes
/// never take the same recipient, and outcomes recorded with their events and bounces in one
/// transaction. A `delivering` recipient carries its lease's end in `next_attempt_at` (as in
/// SQLite), so an expired lease — a node that died — makes it due again by the same test.
extension PostgresStore: QueueRepository, DeliveryQueue, PendingQueueRepository {
    /// The channel nodes are told on when something was queued (their schedulers wake up).
    static let queueChannel = "tern_queue"

    public func enqueue(_ message: IncomingMessage, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        submit([message], completion: completion)
    }

    public func enqueue(group: [IncomingMessage], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        guard !group.isEmpty else { return completion(.success(())) }
        submit(group, completion: completion)
    }

    public func listQueue() async throws(StoreError) -> [QueuedMessage] {
        let messages = try await decoded(
            """
            SELECT \(unescaped: Self.messageColumns) FROM messages m
            WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id) ORDER BY created_at, id
            """, Self.message(from:))
        return try await withRecipients(messages)
    }

    public func queuedMessage(id: String) async throws(StoreError) -> QueuedMessage? {
        let messages = try await decoded(
            """
            SELECT \(unescaped: Self.messageColumns) FROM messages m
            WHERE id = \(id) AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id)
            """, Self.message(from:))
        return try await withRecipients(messages).first
    }

    public func content(id: String) async throws(StoreError) -> [UInt8]? {
        try await decoded("SELECT content FROM messages WHERE id = \(id) AND content_deleted_at IS NULL") { row in
            Array(try row.decode(ByteBuffer.self).readableBytesView)
        }.first
    }

    public func contents(ids: [String]) async throws(StoreError) -> [String: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        let found = try await decoded("SELECT id, content FROM messages WHERE id = ANY(\(ids)) AND content_deleted_at IS NULL") { row in
            let (id, content) = try row.decode((String, ByteBuffer).self)
            return (id, Array(content.readableBytesView))
        }
        return Dictionary(found, uniquingKeysWith: { first, _ in first })
    }

    /// What is stored of a message: all of it, or the header an account's message keeps after
    /// its content was deleted (as SQLite's store).
    public func storedContent(id: String) async throws(StoreError) -> StoredContent? {
        try await decoded("SELECT content, content_deleted_at FROM messages WHERE id = \(id)") { row -> StoredContent? in
            let (content, deletedAt) = try row.decode((ByteBuffer, Int64?).self)
            let bytes = Array(content.readableBytesView)
            if let deletedAt { return bytes.isEmpty ? nil : .header(bytes, deletedAt: Int(deletedAt)) }
            return .whole(bytes)
        }.first ?? nil
    }

    public func contentDeletedAt(id: String) async throws(StoreError) -> Int? {
        try await decoded("SELECT content_deleted_at FROM messages WHERE id = \(id)") { try $0.decode(Int64?.self).map(Int.init) }.first ?? nil
    }

    public func removeQueued(id: String) async throws(StoreError) -> Bool {
        try await transaction { connection in
            let removed = try await connection.query("DELETE FROM recipients WHERE message_id = \(id) RETURNING 1", logger: self.logger).collect().count
            // Content that mailboxes hold stays (it is stored once for them all).
            let held = try await connection.query("SELECT 1 FROM mailbox_messages WHERE message_id = \(id) LIMIT 1", logger: self.logger).collect()
            if !held.isEmpty { return removed > 0 }
            return try await !connection.query("DELETE FROM messages WHERE id = \(id) RETURNING 1", logger: self.logger).collect().isEmpty
        }
    }

    public func pendingRecipients(limit: Int) async throws(StoreError) -> [PendingRecipient] {
        try await decoded(
            """
            SELECT r.message_id, m.reverse_path, r.address, r.state, r.attempts, r.next_attempt_at, r.last_reply, m.created_at, m.auth_account
            FROM recipients r JOIN messages m ON m.id = r.message_id
            WHERE r.state IN ('queued', 'deferred', 'delivering')
            ORDER BY r.next_attempt_at, r.message_id, r.position LIMIT \(max(0, limit))
            """
        ) { row in
            let (id, from, address, state, attempts, next, reply, created, account) = try row.decode(
                (String, String, String, String, Int32, Int64?, String?, Int64, String?).self)
            return PendingRecipient(
                messageID: id, from: from, recipient: address, state: RecipientState(rawValue: state) ?? .queued, attempts: Int(attempts),
                nextAttemptAt: next.map(Int.init), lastReply: reply, createdAt: Int(created), account: account)
        }
    }

    // MARK: - Delivery

    public func leaseDue(now: Int, leaseUntil: Int, limit: Int) async throws(StoreError) -> [LeasedMessage] {
        try await transaction { connection in
            // SKIP LOCKED: rows another node is claiming at this moment are left to it.
            var byMessage: [String: [LeasedRecipient]] = [:]
            var order: [String] = []
            let rows = try await connection.query(
                """
                UPDATE recipients r SET state = 'delivering', next_attempt_at = \(Int64(leaseUntil)), leased_by = \(self.node)
                FROM (SELECT message_id, position FROM recipients
                      WHERE state IN ('queued', 'deferred', 'delivering') AND next_attempt_at <= \(Int64(now))
                      ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED) due
                WHERE r.message_id = due.message_id AND r.position = due.position
                RETURNING r.message_id, r.position, r.address, r.notify, r.orcpt, r.attempts, r.delay_notified
                """, logger: self.logger)
            for try await (id, position, address, notify, orcpt, attempts, delayNotified) in rows.decode(
                (String, Int32, String, String?, String?, Int32, Bool).self)
            {
                if byMessage[id] == nil { order.append(id) }
                byMessage[id, default: []].append(
                    LeasedRecipient(
                        position: Int(position), address: address, notify: notify.flatMap(DSNNotify.init(parameter:)),
                        originalRecipient: orcpt.flatMap(OriginalRecipient.init(parameter:)), attempts: Int(attempts), delayNotified: delayNotified))
            }
            guard !order.isEmpty else { return [] }
            var messages: [String: QueuedMessage] = [:]
            for try await row in try await connection.query(
                "SELECT \(unescaped: Self.messageColumns) FROM messages m WHERE id = ANY(\(order))", logger: self.logger)
            {
                let message = try Self.message(from: row)
                messages[message.id] = message
            }
            return order.compactMap { id in
                messages[id].map { LeasedMessage(message: $0, recipients: (byMessage[id] ?? []).sorted { $0.position < $1.position }) }
            }
        }
    }

    public func nextDueTime() async throws(StoreError) -> Int? {
        try await decoded("SELECT MIN(next_attempt_at) FROM recipients WHERE state IN ('queued', 'deferred', 'delivering')") {
            try $0.decode(Int64?.self).map(Int.init)
        }.first ?? nil
    }

    public func record(_ outcomes: [DeliveryOutcome], bounces: [IncomingMessage], at: Int) async throws(StoreError) {
        try await transaction { connection in
            for outcome in outcomes {
                // The usual outcome (an attempt, no alias expansion) writes the recipient and its
                // event in one statement: one round trip, the event numbered by the new count.
                let eventWithUpdate = outcome.countsAsAttempt && outcome.expansion.isEmpty
                let update: PostgresQuery = """
                    UPDATE recipients SET state = \(outcome.state.rawValue), attempts = attempts + \(outcome.countsAsAttempt ? 1 : 0),
                        last_reply = COALESCE(\(outcome.reply), last_reply), next_attempt_at = \(outcome.nextAttemptAt.map(Int64.init)),
                        delay_notified = delay_notified OR \(outcome.delayNotified), leased_by = NULL
                    WHERE message_id = \(outcome.messageID) AND position = \(Int32(outcome.position))
                    RETURNING attempts
                    """
                if eventWithUpdate {
                    var query = update
                    let offset = query.binds.count
                    query.sql = "WITH u AS (\(update.sql)) INSERT INTO events(at, message_id, recipient, type, mx_host, tls, reply, position, attempt) "
                        + "SELECT $\(offset + 1), $\(offset + 2), $\(offset + 3), $\(offset + 4), $\(offset + 5), $\(offset + 6), $\(offset + 7), "
                        + "$\(offset + 8), u.attempts FROM u"
                    try query.binds.append(Int64(at))
                    try query.binds.append(outcome.messageID)
                    try query.binds.append(outcome.recipient)
                    try query.binds.append(outcome.state.rawValue)
                    try query.binds.append(outcome.mxHost)
                    try query.binds.append(outcome.tls)
                    try query.binds.append(outcome.reply)
                    try query.binds.append(Int32(outcome.position))
                    try await connection.query(query, logger: self.logger)
                } else {
                    try await connection.query(update, logger: self.logger)
                }
                if let delivery = outcome.mailbox {
                    try await self.insertMailboxMessage(
                        connection, messageID: outcome.messageID, position: outcome.position, delivery: delivery, at: at)
                }
                if !outcome.expansion.isEmpty {
                    try await Self.insertExpansion(
                        connection, messageID: outcome.messageID, position: outcome.position, targets: outcome.expansion, at: at, logger: self.logger)
                }
                if outcome.state == .bounced, let reply = outcome.reply, let list = SuppressionList.forFailure(reply: reply) {
                    try await connection.query(
                        """
                        INSERT INTO suppressions(account, list, group_id, email, created_at, reason, status)
                        SELECT auth_account, \(list.rawValue), 0, \(outcome.recipient.lowercased()), \(Int64(at)), \(reply),
                               \(EnhancedStatusText(reply: reply)?.description)
                        FROM messages WHERE id = \(outcome.messageID) AND auth_account IS NOT NULL
                        ON CONFLICT DO NOTHING
                        """, logger: self.logger)
                }
                if outcome.countsAsAttempt && !eventWithUpdate {
                    try await Self.insertEvent(
                        connection, at: at, messageID: outcome.messageID, recipient: outcome.recipient, type: outcome.state.rawValue,
                        mxHost: outcome.mxHost, tls: outcome.tls, reply: outcome.reply, position: outcome.position, countsAttempt: true,
                        logger: self.logger)
                }
            }
            for bounce in bounces { _ = try await self.insert(bounce, connection) }
            // New work (a DSN, an alias's targets) wakes every node's scheduler at commit.
            if !bounces.isEmpty || outcomes.contains(where: { !$0.expansion.isEmpty }) {
                try await connection.query("SELECT pg_notify(\(Self.queueChannel), '')", logger: self.logger)
            }
            let finished = Set(outcomes.lazy.filter { $0.state == .delivered || $0.state == .bounced }.map(\.messageID))
            if !finished.isEmpty {
                try await Self.deleteContentIfUnreferenced(connection, messageIDs: finished.sorted(), at: at, logger: self.logger)
            }
        }
        let users = outcomes.compactMap { $0.mailbox?.user }
        if !users.isEmpty { mailboxSignals.changed(users) }
    }

    public func retryNow(id: String?, at: Int) async throws(StoreError) -> Int {
        try await transaction { connection in
            let count = try await connection.query(
                """
                UPDATE recipients SET next_attempt_at = \(Int64(at))
                WHERE state IN ('queued', 'deferred') AND (\(id)::text IS NULL OR message_id = \(id)) RETURNING 1
                """, logger: self.logger
            ).collect().count
            if count > 0 { try await connection.query("SELECT pg_notify(\(Self.queueChannel), '')", logger: self.logger) }
            return count
        }
    }

    /// `observer` runs whenever any node commits mail due for delivery (its scheduler wakes);
    /// this node's own commits are seen through `observeCommits` as well.
    public func observeQueue(_ observer: @escaping @Sendable () -> Void) {
        queueObservers.withLock { $0.append(observer) }
    }

    func queueNotification() {
        for observer in queueObservers.withLock({ $0 }) { observer() }
    }

    /// Hands back this node's own leases (at its start: what it was doing when it stopped).
    /// Leases of other nodes are theirs until they expire.
    public func releaseLeases(at: Int) async throws(StoreError) -> Int {
        try await rows(
            "UPDATE recipients SET next_attempt_at = \(Int64(at)) WHERE state = 'delivering' AND leased_by = \(node) RETURNING 1"
        ).count
    }

    /// Only leases under this node's name: one another node took over (after this node could
    /// not renew in time) stays that node's.
    public func renewLeases(until: Int) async throws(StoreError) -> Int {
        try await rows(
            """
            UPDATE recipients SET next_attempt_at = \(Int64(until))
            WHERE state = 'delivering' AND leased_by = \(node) AND next_attempt_at < \(Int64(until)) RETURNING 1
            """
        ).count
    }

    public func events(messageID: String) async throws(StoreError) -> [QueueEvent] {
        try await decoded(
            """
            SELECT id, at, message_id, recipient, type, mx_host, tls, reply, position, attempt, details FROM events
            WHERE message_id = \(messageID) ORDER BY id
            """, Self.event(from:))
    }

    // MARK: - Writing a message

    /// Stores `message` and its recipients on `connection` (inside the caller's transaction),
    /// as SQLite's `insert` does: dropped recipients with their reason, a sandbox message's
    /// recipients final at once, and with `deliverToMailboxesAtOnce` each hosted mailbox with
    /// room delivered in this transaction.
    func insert(_ message: IncomingMessage, _ connection: PostgresConnection) async throws -> CommitReport {
        let q = message.queued
        var report = CommitReport()
        let subject =
            q.authenticatedAs == nil ? nil : message.content.withUnsafeBytes { HeaderFields.firstValue(named: "Subject", in: $0) }.map { String($0.prefix(998)) }
        try await connection.query(
            """
            INSERT INTO messages(id, message_id, reverse_path, size, created_at, client_address, helo, dsn_ret, envid, body_type, smtputf8,
                                 auth_account, quarantine, content, request_id, request_first_recipient, subject, categories, custom_args,
                                 asm_group, sandbox, send_options)
            VALUES (\(q.id), \(q.messageID), \(q.from.description), \(Int64(q.size)), \(Int64(q.createdAt)), \(q.clientAddress), \(q.heloName),
                    \(q.dsnReturn?.rawValue), \(q.envelopeID), \(q.bodyType?.rawValue), \(q.smtpUTF8), \(q.authenticatedAs), \(q.quarantine),
                    \(ByteBuffer(data: message.content)), \(message.request?.requestID), \(message.request.map { Int32($0.firstRecipient) }),
                    \(subject), \(message.tags.categories.isEmpty ? nil : Self.json(message.tags.categories)),
                    \(message.tags.customArgs.isEmpty ? nil : Self.json(message.tags.customArgs)), \(message.tags.asmGroupID.map(Int64.init)),
                    \(message.sandbox), \(message.sendOptions))
            """, logger: logger)
        // A scheduled message (`send_at`) waits in the queue like a deferred one.
        let due = max(q.createdAt, message.notBefore ?? q.createdAt)
        var dropped = message.dropped
        if let check = message.suppressionCheck, check.bypass != .all {
            let addresses = q.recipients.map { $0.address.lowercased() }
            let found = try await Self.suppressedAddresses(
                connection, account: check.account, addresses: addresses, group: message.tags.asmGroupID, logger: logger)
            check.apply(found: found, addresses: addresses, to: &dropped)
        }
        report.dropped = dropped.count
        for (position, recipient) in q.recipients.enumerated() {
            let drop = dropped[position]
            var mailbox: MailboxDelivery? = nil
            if drop == nil, !message.sandbox, message.deliverToMailboxesAtOnce,
                case .mailbox(let user, overQuota: false) = try? resolveLocal(recipient.address)
            {
                mailbox = MailboxDelivery(user: user, recipient: recipient.address, reversePath: q.from.description, quarantined: q.quarantine != nil)
            }
            let state = drop != nil ? "dropped" : message.sandbox || mailbox != nil ? "delivered" : "queued"
            if state == "queued" { report.leftQueued = true }
            // The recipient and its events in one statement (one round trip): `queued`, then
            // what happened at once — delivered to its mailbox, dropped, or kept in the sandbox.
            var outcome: (type: String, mxHost: String?, reply: String, attempt: Int32?)? = nil
            if let mailbox {
                outcome = (RecipientState.delivered.rawValue, "local", mailbox.reply, 1)
            } else if let drop {
                outcome = (RecipientState.dropped.rawValue, nil, drop, nil)
            } else if message.sandbox {
                outcome = (RecipientState.delivered.rawValue, "sandbox", Self.sandboxReply, nil)
            }
            let at = Int64(q.createdAt)
            let position32 = Int32(position)
            try await connection.query(
                """
                WITH r AS (
                    INSERT INTO recipients(message_id, position, address, state, notify, orcpt, next_attempt_at, last_reply, attempts)
                    VALUES (\(q.id), \(position32), \(recipient.address), \(state), \(recipient.notify?.description),
                            \(recipient.originalRecipient?.description), \(state == "queued" ? Int64(due) : nil),
                            \(drop ?? (message.sandbox ? Self.sandboxReply : mailbox?.reply)), \(Int32(mailbox == nil ? 0 : 1)))
                    RETURNING 1)
                INSERT INTO events(at, message_id, recipient, type, mx_host, tls, reply, position, attempt)
                SELECT at, id, address, type, mx_host, NULL, reply, position, attempt FROM (VALUES
                    (1, \(at), \(q.id), \(recipient.address), 'queued', NULL::text, NULL::text, \(position32), NULL::integer, true),
                    (2, \(at), \(q.id), \(recipient.address), \(outcome?.type ?? ""), \(outcome?.mxHost), \(outcome?.reply), \(position32),
                     \(outcome?.attempt), \(outcome != nil))
                ) AS v(n, at, id, address, type, mx_host, reply, position, attempt, keep)
                WHERE keep ORDER BY n
                """, logger: logger)
            if let mailbox {
                try await insertMailboxMessage(connection, messageID: q.id, position: position, delivery: mailbox, at: q.createdAt)
                report.delivered.append(
                    CommitReport.Delivery(messageID: q.id, recipient: recipient.address, user: mailbox.user, folder: mailbox.folder, reply: mailbox.reply))
            }
        }
        if message.sandbox, let account = q.authenticatedAs { try await Self.pruneSandbox(connection, account: account, logger: logger) }
        if !dropped.isEmpty, !message.sandbox {
            try await Self.deleteContentIfUnreferenced(connection, messageID: q.id, at: q.createdAt, logger: logger)
        }
        return report
    }

    /// The local recipient `address` resolves to, from the directory snapshot.
    public func resolveLocal(_ address: String) throws(StoreError) -> LocalRecipient {
        let separator = subaddressSeparator
        return try fromSnapshot { $0.resolveLocal(address, subaddressSeparator: separator) }
    }

    static let sandboxReply = "250 2.0.0 Kept in the sandbox inbox; not sent"

    /// An account's sandbox inbox keeps its newest `sandboxInboxSize` messages.
    static func pruneSandbox(_ connection: PostgresConnection, account: String, logger: Logger) async throws {
        try await connection.query(
            """
            WITH old AS (SELECT id FROM messages WHERE sandbox AND auth_account = \(account)
                         ORDER BY created_at DESC, id DESC OFFSET \(sandboxInboxSize)),
                 gone_events AS (DELETE FROM events WHERE message_id IN (SELECT id FROM old))
            DELETE FROM messages WHERE id IN (SELECT id FROM old)
            """, logger: logger)
    }

    /// One event row; `countsAttempt`: numbered by the recipient's attempts so far.
    static func insertEvent(
        _ connection: PostgresConnection, at: Int, messageID: String, recipient: String, type: String, mxHost: String?, tls: String?, reply: String?,
        position: Int? = nil, countsAttempt: Bool = false, logger: Logger
    ) async throws {
        let position32 = position.map(Int32.init)
        try await connection.query(
            """
            INSERT INTO events(at, message_id, recipient, type, mx_host, tls, reply, position, attempt)
            VALUES (\(Int64(at)), \(messageID), \(recipient), \(type), \(mxHost), \(tls), \(reply), \(position32),
                    CASE WHEN \(countsAttempt) THEN (SELECT attempts FROM recipients WHERE message_id = \(messageID) AND position = \(position32)) END)
            """, logger: logger)
    }

    /// A copy in a mailbox: the next UID and MODSEQ taken under the folder's row lock (so two
    /// nodes delivering to one folder never share a UID), the user's bytes counted. Idempotent
    /// per message, recipient and user.
    func insertMailboxMessage(
        _ connection: PostgresConnection, messageID: String, position: Int, delivery: MailboxDelivery, at: Int
    ) async throws {
        let key = "\(messageID)#\(position)#\(delivery.user.lowercased())"
        // One statement (one round trip): skip a delivery already written, take the next UID
        // and MODSEQ under the folder's row lock, store the copy, count the user's bytes, and
        // notify every node's IDLE sessions at commit.
        func deliver() async throws -> (duplicate: Bool, folderFound: Bool, used: Int64?) {
            for try await row in try await connection.query(
                """
                WITH dup AS (SELECT 1 FROM mailbox_messages WHERE delivery = \(key)),
                f AS (UPDATE mailboxes SET uidnext = uidnext + 1, highest_modseq = highest_modseq + 1
                      WHERE account = \(delivery.user) AND name = \(delivery.folder) AND NOT EXISTS (SELECT 1 FROM dup)
                      RETURNING id, uidnext - 1 AS uid, highest_modseq),
                mm AS (INSERT INTO mailbox_messages(mailbox_id, uid, message_id, prefix, size, internal_date, flags, modseq, delivery)
                       SELECT f.id, f.uid, m.id, \(ByteBuffer(bytes: delivery.prefix)), m.size + \(Int64(delivery.prefix.count)), \(Int64(at)), '',
                              f.highest_modseq, \(key)
                       FROM f, messages m WHERE m.id = \(messageID) RETURNING size),
                u AS (UPDATE users SET used_bytes = used_bytes + mm.size FROM mm WHERE address = \(delivery.user) RETURNING used_bytes),
                n AS (SELECT pg_notify(\(Self.mailboxChannel), \(node + "\t" + delivery.user.lowercased())) FROM mm)
                SELECT EXISTS (SELECT 1 FROM dup), EXISTS (SELECT 1 FROM f), (SELECT used_bytes FROM u), (SELECT COUNT(*) FROM n)
                """, logger: logger
            ).decode((Bool, Bool, Int64?, Int64).self) {
                return (row.0, row.1, row.2)
            }
            return (false, false, nil)
        }
        var done = try await deliver()
        if !done.duplicate, !done.folderFound {
            // A user from before folders existed, or one whose INBOX was deleted.
            try await Self.createFolders(connection, account: delivery.user, logger: logger)
            done = try await deliver()
        }
        if done.duplicate { return }
        guard done.folderFound else { throw StoreError.notFound("mailbox \(delivery.folder) of \(delivery.user)") }
        // Noted before the commit: should it roll back, this node's view is high for at most a
        // second (a full mailbox refused early, never one let past its quota).
        if let used = done.used { noteUsedBytes(delivery.user, used) }
    }

    /// An alias's targets become recipients of the same message, due now; a target already
    /// there is not added twice. RFC 3461 §4.2: ORCPT stays what the sender gave, else the
    /// address expanded.
    static func insertExpansion(
        _ connection: PostgresConnection, messageID: String, position: Int, targets: [String], at: Int, logger: Logger
    ) async throws {
        var original: (String, String?, String?)? = nil
        for try await row in try await connection.query(
            "SELECT address, notify, orcpt FROM recipients WHERE message_id = \(messageID) AND position = \(Int32(position))", logger: logger
        ).decode((String, String?, String?).self) {
            original = row
        }
        guard let (address, notify, orcpt) = original else { return }
        let originalRecipient = orcpt ?? OriginalRecipient(addressType: "rfc822", address: address).description
        for target in targets {
            let inserted = try await connection.query(
                """
                INSERT INTO recipients(message_id, position, address, state, notify, orcpt, next_attempt_at)
                SELECT \(messageID), (SELECT MAX(position) + 1 FROM recipients WHERE message_id = \(messageID)), \(target), 'queued', \(notify),
                       \(originalRecipient), \(Int64(at))
                WHERE NOT EXISTS (SELECT 1 FROM recipients WHERE message_id = \(messageID) AND address = \(target))
                RETURNING position
                """, logger: logger
            ).collect()
            guard let row = inserted.first else { continue }
            let next = Int(try row.decode(Int32.self))
            try await insertEvent(
                connection, at: at, messageID: messageID, recipient: target, type: RecipientState.queued.rawValue, mxHost: nil, tls: nil, reply: nil,
                position: next, logger: logger)
        }
    }

    // MARK: - Reading rows

    static let messageColumns =
        "id, message_id, reverse_path, size, created_at, client_address, helo, dsn_ret, envid, body_type, smtputf8, auth_account, quarantine"

    static func message(from row: PostgresRow) throws -> QueuedMessage {
        let (id, messageID, from, size, createdAt, client, helo, ret, envid, body, utf8, account, quarantine) = try row.decode(
            (String, String?, String, Int64, Int64, String?, String?, String?, String?, String?, Bool, String?, String?).self)
        return QueuedMessage(
            id: id, messageID: messageID, from: reversePath(from), size: Int(size), createdAt: Int(createdAt), recipients: [], clientAddress: client,
            heloName: helo, dsnReturn: ret.flatMap(DSNReturn.init(rawValue:)), envelopeID: envid, bodyType: body.flatMap(BodyType.init(rawValue:)),
            smtpUTF8: utf8, authenticatedAs: account, quarantine: quarantine)
    }

    /// The stored reverse path ("" for `<>`).
    static func reversePath(_ text: String) -> ReversePath {
        guard !text.isEmpty, let path = try? ReversePath(parsing: "<\(text)>", allowUTF8: true) else { return .null }
        return path
    }

    func withRecipients(_ messages: [QueuedMessage]) async throws(StoreError) -> [QueuedMessage] {
        guard !messages.isEmpty else { return [] }
        let ids = messages.map(\.id)
        let recipients = try await decoded(
            """
            SELECT message_id, address, state, attempts, last_reply, notify, orcpt, next_attempt_at FROM recipients
            WHERE message_id = ANY(\(ids)) ORDER BY message_id, position
            """
        ) { row in
            let (id, address, state, attempts, reply, notify, orcpt, next) = try row.decode(
                (String, String, String, Int32, String?, String?, String?, Int64?).self)
            return (
                id,
                QueuedRecipient(
                    address: address, state: RecipientState(rawValue: state) ?? .queued, attempts: Int(attempts), lastReply: reply,
                    notify: notify.flatMap(DSNNotify.init(parameter:)), originalRecipient: orcpt.flatMap(OriginalRecipient.init(parameter:)),
                    nextAttemptAt: next.map(Int.init))
            )
        }
        var byMessage: [String: [QueuedRecipient]] = [:]
        for (id, recipient) in recipients { byMessage[id, default: []].append(recipient) }
        return messages.map { message in
            var message = message
            message.recipients = byMessage[message.id] ?? []
            return message
        }
    }

    static func event(from row: PostgresRow) throws -> QueueEvent {
        let (id, at, messageID, recipient, type, mxHost, tls, reply, position, attempt, details) = try row.decode(
            (Int64, Int64, String, String, String, String?, String?, String?, Int32?, Int32?, String?).self)
        return QueueEvent(
            id: Int(id), at: Int(at), messageID: messageID, recipient: recipient, type: type, mxHost: mxHost, tls: tls, reply: reply,
            position: position.map(Int.init), attempt: attempt.map(Int.init), details: details)
    }

    /// JSON text of a stored list or map (sorted keys, so equal values store equal text).
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? ""
    }
}
