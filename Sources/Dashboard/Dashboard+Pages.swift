import Foundation
import Hummingbird
import MailCore
import MailService
import MailStore
import SendGridProtocol

/// The pages (split from Dashboard.swift by concern: sessions and rendering there, what each
/// page shows here).
extension Dashboard {
    /// Days in the overview's chart.
    static let chartDays = 30

    func overview(_ session: WebSession) async -> Response {
        let now = clock()
        let today = now - now % 86400
        let first = today - (Self.chartDays - 1) * 86400
        let monthStart = MessageDate.startOfDay(parsing: String(MessageDate.day(unixSeconds: today).prefix(8)) + "01") ?? today
        let from = min(first, monthStart)
        let days = (try? await activity.dailyEvents(account: session.user, from: from, to: today + 86400, category: nil)) ?? []
        // The same arithmetic as `/v3/stats`, so the chart and the API cannot disagree.
        var byDay: [Int: StatsMetrics] = [:]
        for day in days {
            byDay[day.day] = StatsMetrics(counts: day.counts, bounceReplies: day.bounceReplies, dropReasons: day.dropReasons, uniqueCounts: day.uniqueCounts)
        }
        let chartDays = Array(stride(from: first, through: today, by: 86400))
        let metrics = chartDays.map { byDay[$0] ?? StatsMetrics() }
        let chart = ActivityChart(
            days: chartDays,
            series: [
                .init(name: "Requests", style: "s0", values: metrics.map(\.requests)),
                .init(name: "Delivered", style: "s1", values: metrics.map(\.delivered)),
                .init(name: "Bounces", style: "s2", values: metrics.map(\.bounces)),
                .init(name: "Deferrals", style: "s3", values: metrics.map(\.deferred)),
                .init(name: "Opens", style: "s4", values: metrics.map(\.opens)),
                .init(name: "Clicks", style: "s5", values: metrics.map(\.clicks)),
            ])
        let requests = metrics.reduce(0) { $0 + $1.requests }
        let delivered = metrics.reduce(0) { $0 + $1.delivered }
        let bounces = metrics.reduce(0) { $0 + $1.bounces }
        let uniqueOpens = metrics.reduce(0) { $0 + $1.uniqueOpens }
        func rate(_ part: Int, _ whole: Int) -> String { whole == 0 ? "–" : String(format: "%.1f %%", Double(part) * 100 / Double(whole)) }
        let month = stride(from: monthStart, through: today, by: 86400).reduce(0) { $0 + (byDay[$1]?.requests ?? 0) }
        // The plan's limits, used and when they start again (as `tern user show` prints them).
        let planName = (try? directory.plan(user: session.user)) ?? nil
        let limits = planName.flatMap { plans[$0] }?.usageLimits(at: now) ?? []
        let used = (try? directory.usage(user: session.user, periods: limits.map(\.period))) ?? [:]
        var values: [String: Any] = [
            "plan": planName ?? "none",
            "limits": limits.map { ["name": $0.name, "used": used[$0.period] ?? 0, "limit": $0.limit, "resets": Self.time($0.resetsAt)] as [String: Any] },
            "today": byDay[today]?.requests ?? 0, "month": month,
            "deliveryRate": rate(delivered, requests), "bounceRate": rate(bounces, requests), "openRate": rate(uniqueOpens, delivered),
            "chart": chart.svg, "chartTable": chart.table,
            "legend": chart.series.map { ["name": $0.name, "style": $0.style] },
        ]
        if session.isOperator {
            let depth = await queueDepth()
            values["queue"] = ["states": RecipientState.allCases.map { ["state": $0.rawValue, "count": depth[$0] ?? 0] as [String: Any] }]
        }
        return page("overview", values, title: "Overview", session: session, current: "overview")
    }

    func activityPage(_ request: Request, _ session: WebSession) async -> Response {
        let query = request.uri.queryParameters
        func text(_ name: String) -> String? {
            guard let raw = query[name[...]] else { return nil }
            let value = String(raw).trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { return nil }
            return String(value.prefix(320))
        }
        let status = text("status").flatMap(RecipientState.init(rawValue:))
        // Days are UTC days, as the chart's and /v3/stats's are; "until" includes its day.
        let since = text("since").flatMap(Self.utcDay)
        let until = text("until").flatMap(Self.utcDay)
        let filter = ActivityFilter(
            to: text("to"), from: text("from"), subject: text("subject"), states: status.map { [$0] }, category: text("category"),
            acceptedFrom: since, acceptedBefore: until.map { $0 + 86400 })
        let pageNumber = min(max(Int(text("page") ?? "1") ?? 1, 1), Self.maximumPages)
        // The repository lists newest first up to a limit: a page is a slice of that.
        let listed = (try? await activity.activity(account: session.user, filter: filter, limit: pageNumber * Self.pageSize + 1)) ?? []
        let start = (pageNumber - 1) * Self.pageSize
        let rows = listed.dropFirst(start).prefix(Self.pageSize)
        func link(_ page: Int) -> String {
            var items: [URLQueryItem] = []
            for name in ["to", "from", "subject", "status", "category", "since", "until"] { if let value = text(name) { items.append(URLQueryItem(name: name, value: value)) } }
            items.append(URLQueryItem(name: "page", value: String(page)))
            var components = URLComponents()
            components.path = "/dashboard/activity"
            components.queryItems = items
            return components.string ?? "/dashboard/activity"
        }
        let values: [String: Any] = [
            "to": text("to") ?? "", "from": text("from") ?? "", "subject": text("subject") ?? "", "category": text("category") ?? "",
            "since": since.map { String(Self.time($0).prefix(10)) } ?? "", "until": until.map { String(Self.time($0).prefix(10)) } ?? "",
            "statuses": [["value": "", "label": "Any", "selected": status == nil]]
                + RecipientState.allCases.map { ["value": $0.rawValue, "label": $0.rawValue, "selected": status == $0] as [String: Any] },
            "rows": rows.map { row -> [String: Any] in
                [
                    "time": Self.time(row.createdAt), "id": row.sgMessageID, "to": row.to, "subject": row.subject ?? "", "status": row.state.rawValue,
                    "sandbox": row.sandbox, "opens": row.opens, "clicks": row.clicks,
                ]
            },
            "previous": pageNumber > 1 ? link(pageNumber - 1) : false,
            "next": listed.count > start + Self.pageSize && pageNumber < Self.maximumPages ? link(pageNumber + 1) : false,
        ]
        return page("activity", values, title: "Activity", session: session, current: "activity")
    }

    /// One recipient of one message; another account's (or an unknown) id is a 404, never a
    /// hint that it exists.
    func messagePage(_ id: String, _ session: WebSession) async -> Response {
        guard id.utf8.count <= 200, let (row, events) = (try? await activity.activity(account: session.user, sgMessageID: id)) ?? nil else {
            return problem(.notFound, "No such message", "There is no message with this id in your account.", session: session)
        }
        var values: [String: Any] = [
            "to": row.to, "status": row.state.rawValue, "from": row.from, "subject": row.subject ?? "", "messageID": row.messageIDHeader ?? "",
            "queueID": row.queueID, "sgMessageID": row.sgMessageID, "created": Self.time(row.createdAt),
            "categories": row.tags.categories.isEmpty ? false : row.tags.categories.joined(separator: ", "),
            "events": events.map { event -> [String: Any] in
                [
                    "time": Self.time(event.at), "type": event.type, "host": event.mxHost ?? false, "tls": event.tls ?? false,
                    "reply": event.reply ?? false,
                ]
            },
        ]
        switch await content(row.queueID) {
        case .whole(let bytes)?: MessageSource(bytes).add(to: &values)
        case .header(let bytes, let deletedAt)?:
            // Only the header is left: no raw source to offer.
            MessageSource(bytes).add(to: &values)
            values["source"] = nil
            values["headerOnly"] = Self.time(deletedAt)
        case nil: break
        }
        return page("message", values, title: "Message to \(row.to)", session: session, current: "activity")
    }

    func keysPage(_ session: WebSession, created: (name: String, secret: String)?, status: HTTPResponse.Status = .ok) async -> Response {
        let keys = (try? await administration.apiKeys(of: session.user)) ?? []
        var values: [String: Any] = [
            "csrf": session.csrf,
            "keys": keys.map { key -> [String: Any] in
                [
                    "name": key.name, "id": key.id, "scopes": key.scopes.stored, "sandbox": key.sandbox ? "yes" : "no", "created": Self.time(key.createdAt),
                    "lastUsed": key.lastUsedAt.map(Self.time) ?? "never",
                    "status": key.revokedAt == nil ? "live" : "revoked \(Self.time(key.revokedAt!))", "live": key.revokedAt == nil, "csrf": session.csrf,
                ]
            },
        ]
        if let created { values["created"] = ["name": created.name, "secret": created.secret] }
        return page("keys", values, title: "API keys", session: session, current: "keys", status: status)
    }

    func createKey(_ form: FormBody, _ session: WebSession) async -> Response {
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let scopes: Set<APIScope> = form["scope"] == "mail.send" ? [.mailSend] : [.full]
        do {
            let (text, record) = try await administration.createAPIKey(for: session.user, name: name, scopes: scopes, sandbox: form["sandbox"] == "on")
            return await keysPage(session, created: (record.name, text), status: .created)
        } catch {
            return problem(.badRequest, "Key not created", "\(error)", session: session)
        }
    }

    func revokeKey(_ id: String, _ session: WebSession) async -> Response {
        // Only a key of the signed-in account: another account's id is not found.
        guard let keys = try? await administration.apiKeys(of: session.user), keys.contains(where: { $0.id == id }) else {
            return problem(.notFound, "No such key", "There is no key with this id in your account.", session: session)
        }
        try? await administration.revokeAPIKey(id: id)
        return Self.redirect("/dashboard/keys")
    }

    /// 00:00 UTC of a `YYYY-MM-DD` day, or nil.
    static func utcDay(_ text: String) -> Int? {
        let parts = text.split(separator: "-")
        guard text.utf8.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            calendar.component(.day, from: date) == day
        else { return nil }
        return Int(date.timeIntervalSince1970)
    }
}
