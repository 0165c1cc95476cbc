import Foundation
import MailStore
import PostgresNIO

/// `/v3/messages`, `/v3/stats` and the dashboard's activity, as SQLite's store reads them.
extension PostgresStore: ActivityRepository {
    /// A recipient's `sg_message_id`: the request's id (or the queue id) and its ordinal.
    static let sgMessageIDColumn = "COALESCE(m.request_id, m.id) || '.' || (COALESCE(m.request_first_recipient, 0) + r.position)"

    static let activityColumns = """
        m.id, \(sgMessageIDColumn), r.position, m.reverse_path, r.address, m.subject, m.message_id, r.state, m.created_at, m.categories,
        m.custom_args, m.asm_group, m.auth_account, m.client_address, m.sandbox,
        (SELECT MAX(e.at) FROM events e WHERE e.message_id = m.id AND e.position = r.position),
        (SELECT COUNT(*) FROM events e WHERE e.message_id = m.id AND e.position = r.position AND e.type = 'open'),
        (SELECT COUNT(*) FROM events e WHERE e.message_id = m.id AND e.position = r.position AND e.type = 'click')
        """

    public func activity(account: String, filter: ActivityFilter, limit: Int) async throws(StoreError) -> [RecipientActivity] {
        let states = filter.states.map { $0.map(\.rawValue) }
        let from = filter.acceptedFrom.map(Int64.init)
        let before = filter.acceptedBefore.map(Int64.init)
        return try await decoded(
            """
            SELECT \(unescaped: Self.activityColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
            WHERE m.auth_account = \(account)
              AND (\(filter.to)::text IS NULL OR r.address = \(filter.to) COLLATE tern_nocase)
              AND (\(filter.from)::text IS NULL OR m.reverse_path = \(filter.from) COLLATE tern_nocase)
              AND (\(filter.subject)::text IS NULL OR m.subject = \(filter.subject))
              AND (\(states == nil) OR r.state = ANY(\(states ?? [])))
              AND (\(filter.sgMessageID)::text IS NULL OR \(unescaped: Self.sgMessageIDColumn) = \(filter.sgMessageID))
              AND (\(filter.category)::text IS NULL OR m.categories::jsonb @> jsonb_build_array(\(filter.category)::text))
              AND (\(from)::bigint IS NULL OR m.created_at >= \(from))
              AND (\(before)::bigint IS NULL OR m.created_at < \(before))
            ORDER BY m.created_at DESC, m.id DESC, r.position LIMIT \(Int64(limit))
            """, Self.activity(from:))
    }

    public func activity(account: String, sgMessageID: String) async throws(StoreError) -> (RecipientActivity, [QueueEvent])? {
        guard let dot = sgMessageID.lastIndex(of: "."), let ordinal = Int(sgMessageID[sgMessageID.index(after: dot)...]) else { return nil }
        let prefix = String(sgMessageID[..<dot])
        guard
            let activity = try await decoded(
                """
                SELECT \(unescaped: Self.activityColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
                WHERE (m.request_id = \(prefix) OR (m.request_id IS NULL AND m.id = \(prefix))) AND m.auth_account = \(account)
                  AND COALESCE(m.request_first_recipient, 0) + r.position = \(Int64(ordinal))
                """, Self.activity(from:)
            ).first
        else { return nil }
        let events = try await decoded(
            """
            SELECT id, at, message_id, recipient, type, mx_host, tls, reply, position, attempt, details FROM events
            WHERE message_id = \(activity.queueID) AND position = \(Int32(activity.position)) ORDER BY id
            """, Self.event(from:))
        return (activity, events)
    }

    public func dailyEvents(account: String, from: Int, to: Int, category: String?) async throws(StoreError) -> [DailyEvents] {
        var days: [Int: DailyEvents] = [:]
        let (from, to) = (Int64(from), Int64(to))
        // Counted in the database, as SQLite's store does; a category narrows to messages whose
        // JSON list of categories has it.
        let counted = try await decoded(
            """
            SELECT (e.at / 86400) * 86400 AS day, e.type, COUNT(*) FROM events e JOIN messages m ON m.id = e.message_id
            WHERE m.auth_account = \(account) AND e.at >= \(from) AND e.at < \(to) AND e.type NOT IN ('bounced', 'dropped')
              AND (\(category)::text IS NULL OR m.categories::jsonb @> jsonb_build_array(\(category)::text))
            GROUP BY day, e.type
            """
        ) { try $0.decode((Int64, String, Int64).self) }
        for (day, type, count) in counted { days[Int(day), default: DailyEvents(day: Int(day))].counts[type] = Int(count) }
        let failures = try await decoded(
            """
            SELECT (e.at / 86400) * 86400, e.type, e.reply FROM events e JOIN messages m ON m.id = e.message_id
            WHERE m.auth_account = \(account) AND e.at >= \(from) AND e.at < \(to) AND e.type IN ('bounced', 'dropped')
              AND (\(category)::text IS NULL OR m.categories::jsonb @> jsonb_build_array(\(category)::text))
            """
        ) { try $0.decode((Int64, String, String?).self) }
        for (day64, type, reply) in failures {
            let day = Int(day64)
            days[day, default: DailyEvents(day: day)].counts[type, default: 0] += 1
            if type == "bounced" {
                days[day, default: DailyEvents(day: day)].bounceReplies.append(reply ?? "")
            } else {
                days[day, default: DailyEvents(day: day)].dropReasons.append(reply ?? "")
            }
        }
        // Unique opens and clicks: recipients per day with one a person made (machine opens and
        // clicks carry a flag in `details`).
        let unique = try await decoded(
            """
            SELECT (e.at / 86400) * 86400 AS day, e.type, COUNT(DISTINCT e.message_id || '.' || e.position)
            FROM events e JOIN messages m ON m.id = e.message_id
            WHERE m.auth_account = \(account) AND e.at >= \(from) AND e.at < \(to) AND e.type IN ('open', 'click')
              AND COALESCE(e.details::jsonb ->> 'sg_machine_open', 'false') NOT IN ('true', '1')
              AND COALESCE(e.details::jsonb ->> 'machine', 'false') NOT IN ('true', '1')
              AND (\(category)::text IS NULL OR m.categories::jsonb @> jsonb_build_array(\(category)::text))
            GROUP BY day, e.type
            """
        ) { try $0.decode((Int64, String, Int64).self) }
        for (day, type, count) in unique { days[Int(day), default: DailyEvents(day: Int(day))].uniqueCounts[type] = Int(count) }
        return days.values.sorted { $0.day < $1.day }
    }

    static func activity(from row: PostgresRow) throws -> RecipientActivity {
        try activity(from: row, skipping: 0)
    }

    /// The activity columns, starting at column `first` of the row (after a query's own).
    static func activity(from row: PostgresRow, skipping first: Int) throws -> RecipientActivity {
        let cells = PostgresRandomAccessRow(row)
        func cell<T: PostgresDecodable>(_ index: Int, _: T.Type) throws -> T { try cells[first + index].decode(T.self) }
        let decoder = JSONDecoder()
        let tags = MessageTags(
            categories: try cell(9, String?.self).flatMap { try? decoder.decode([String].self, from: Data($0.utf8)) } ?? [],
            customArgs: try cell(10, String?.self).flatMap { try? decoder.decode([String: String].self, from: Data($0.utf8)) } ?? [:],
            asmGroupID: try cell(11, Int64?.self).map(Int.init))
        let createdAt = Int(try cell(8, Int64.self))
        var activity = RecipientActivity(
            queueID: try cell(0, String.self), sgMessageID: try cell(1, String.self), position: Int(try cell(2, Int32.self)),
            from: try cell(3, String.self), to: try cell(4, String.self), subject: try cell(5, String?.self), messageIDHeader: try cell(6, String?.self),
            state: RecipientState(rawValue: try cell(7, String.self)) ?? .queued, createdAt: createdAt,
            lastEventAt: try cell(15, Int64?.self).map(Int.init) ?? createdAt, tags: tags, account: try cell(12, String?.self),
            clientAddress: try cell(13, String?.self), sandbox: try cell(14, Bool.self))
        activity.opens = Int(try cell(16, Int64.self))
        activity.clicks = Int(try cell(17, Int64.self))
        return activity
    }
}
