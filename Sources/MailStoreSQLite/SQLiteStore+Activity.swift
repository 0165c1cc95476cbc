import Foundation
import GRDB
import MailCore
import MailStore

extension SQLiteStore: ActivityRepository {
    /// A recipient's `sg_message_id`, computed where it is read: the request's id (or, for
    /// SMTP, the queue id) and the recipient's ordinal in the request.
    static let sgMessageIDColumn = "COALESCE(m.request_id, m.id) || '.' || (COALESCE(m.request_first_recipient, 0) + r.position)"

    static let activityColumns = """
        m.id AS queue_id, \(sgMessageIDColumn) AS sg_message_id, r.position, m.reverse_path, r.address, m.subject, m.message_id,
        r.state, m.created_at, m.categories, m.custom_args, m.asm_group, m.auth_account, m.client_address, m.sandbox,
        (SELECT MAX(e.at) FROM events e WHERE e.message_id = m.id AND e.position = r.position) AS last_event_at,
        (SELECT COUNT(*) FROM events e WHERE e.message_id = m.id AND e.position = r.position AND e.type = 'open') AS opens,
        (SELECT COUNT(*) FROM events e WHERE e.message_id = m.id AND e.position = r.position AND e.type = 'click') AS clicks
        """

    public func activity(account: String, filter: ActivityFilter, limit: Int) async throws(StoreError) -> [RecipientActivity] {
        try await read { db in
            var conditions = ["m.auth_account = ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [account]
            // Each filter field that is set adds its condition and its one argument.
            func match(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
                guard let value else { return }
                conditions.append(condition)
                arguments.append(value)
            }
            match("r.address = ? COLLATE NOCASE", filter.to)
            match("m.reverse_path = ? COLLATE NOCASE", filter.from)
            match("m.subject = ?", filter.subject)
            if let states = filter.states {
                conditions.append("r.state IN (\(states.isEmpty ? "NULL" : states.map { _ in "?" }.joined(separator: ", ")))")
                arguments += states.sorted { $0.rawValue < $1.rawValue }.map(\.rawValue)
            }
            match("\(Self.sgMessageIDColumn) = ?", filter.sgMessageID)
            // Categories are kept as a JSON array of strings.
            match("EXISTS (SELECT 1 FROM json_each(m.categories) WHERE json_each.value = ?)", filter.category)
            match("m.created_at >= ?", filter.acceptedFrom)
            match("m.created_at < ?", filter.acceptedBefore)
            arguments.append(limit)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.activityColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY m.created_at DESC, m.id DESC, r.position LIMIT ?
                    """, arguments: StatementArguments(arguments))
            return rows.map(Self.activity(from:))
        }
    }

    public func activity(account: String, sgMessageID: String) async throws(StoreError) -> (RecipientActivity, [QueueEvent])? {
        guard let dot = sgMessageID.lastIndex(of: "."), let ordinal = Int(sgMessageID[sgMessageID.index(after: dot)...]) else { return nil }
        let prefix = String(sgMessageID[..<dot])
        return try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(Self.activityColumns) FROM messages m JOIN recipients r ON r.message_id = m.id
                        WHERE (m.request_id = ? OR (m.request_id IS NULL AND m.id = ?)) AND m.auth_account = ?
                          AND COALESCE(m.request_first_recipient, 0) + r.position = ?
                        """, arguments: [prefix, prefix, account, ordinal])
            else { return nil }
            let activity = Self.activity(from: row)
            let events = try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE message_id = ? AND position = ? ORDER BY id", arguments: [activity.queueID, activity.position]
            ).map(Self.event(from:))
            return (activity, events)
        }
    }

    public func dailyEvents(account: String, from: Int, to: Int, category: String?) async throws(StoreError) -> [DailyEvents] {
        // A category narrows to messages whose JSON list of categories has it.
        let inCategory = category == nil ? "" : " AND EXISTS (SELECT 1 FROM json_each(m.categories) WHERE json_each.value = ?)"
        return try await read { db in
            let extra: [(any DatabaseValueConvertible)?] = category.map { [$0] } ?? []
            var days: [Int: DailyEvents] = [:]
            let counted = try Row.fetchAll(
                db,
                sql: """
                    SELECT (e.at / 86400) * 86400 AS day, e.type, COUNT(*) AS n FROM events e JOIN messages m ON m.id = e.message_id
                    WHERE m.auth_account = ? AND e.at >= ? AND e.at < ? AND e.type NOT IN ('bounced', 'dropped')\(inCategory) GROUP BY day, e.type
                    """, arguments: StatementArguments([account, from, to] + extra))
            for row in counted {
                let day: Int = row["day"]
                days[day, default: DailyEvents(day: day)].counts[row["type"]] = row["n"]
            }
            let bounces = try Row.fetchAll(
                db,
                sql: """
                    SELECT (e.at / 86400) * 86400 AS day, e.type, e.reply FROM events e JOIN messages m ON m.id = e.message_id
                    WHERE m.auth_account = ? AND e.at >= ? AND e.at < ? AND e.type IN ('bounced', 'dropped')\(inCategory)
                    """, arguments: StatementArguments([account, from, to] + extra))
            for row in bounces {
                let day: Int = row["day"]
                let type: String = row["type"]
                days[day, default: DailyEvents(day: day)].counts[type, default: 0] += 1
                if type == "bounced" {
                    days[day, default: DailyEvents(day: day)].bounceReplies.append((row["reply"] as String?) ?? "")
                } else {
                    days[day, default: DailyEvents(day: day)].dropReasons.append((row["reply"] as String?) ?? "")
                }
            }
            // Unique opens and clicks: recipients per day with one a person made (machine opens
            // and clicks are recorded with a flag in `details`, and left out here).
            let unique = try Row.fetchAll(
                db,
                sql: """
                    SELECT (e.at / 86400) * 86400 AS day, e.type, COUNT(DISTINCT e.message_id || '.' || e.position) AS n
                    FROM events e JOIN messages m ON m.id = e.message_id
                    WHERE m.auth_account = ? AND e.at >= ? AND e.at < ? AND e.type IN ('open', 'click')
                      AND COALESCE(json_extract(e.details, '$.sg_machine_open'), 0) = 0 AND COALESCE(json_extract(e.details, '$.machine'), 0) = 0\(inCategory)
                    GROUP BY day, e.type
                    """, arguments: StatementArguments([account, from, to] + extra))
            for row in unique {
                let day: Int = row["day"]
                days[day, default: DailyEvents(day: day)].uniqueCounts[row["type"]] = row["n"]
            }
            return days.values.sorted { $0.day < $1.day }
        }
    }

    static func activity(from row: Row) -> RecipientActivity {
        var activity = RecipientActivity(
            queueID: row["queue_id"], sgMessageID: row["sg_message_id"], position: row["position"], from: row["reverse_path"],
            to: row["address"], subject: row["subject"], messageIDHeader: row["message_id"],
            state: RecipientState(rawValue: row["state"]) ?? .queued, createdAt: row["created_at"],
            lastEventAt: (row["last_event_at"] as Int?) ?? row["created_at"], tags: tags(from: row), account: row["auth_account"],
            clientAddress: row["client_address"], sandbox: row["sandbox"])
        activity.opens = row["opens"] ?? 0
        activity.clicks = row["clicks"] ?? 0
        return activity
    }

    static func tags(from row: Row) -> MessageTags {
        let decoder = JSONDecoder()
        let categories = (row["categories"] as String?).flatMap { try? decoder.decode([String].self, from: Data($0.utf8)) } ?? []
        let args = (row["custom_args"] as String?).flatMap { try? decoder.decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        return MessageTags(categories: categories, customArgs: args, asmGroupID: row["asm_group"])
    }
}
