import Foundation
import Hummingbird
import MailCore
import MailStore
import SendGridProtocol

/// SendGrid's `GET /v3/stats`: global metrics per day, week or month, counted from the event
/// rows of the account's messages, so stats and events can never disagree.
struct StatsEndpoint {
    let activity: any ActivityRepository
    let clock: @Sendable () -> Int

    /// The longest range one request may ask for (bounded work per request).
    static let maximumDays = 366

    struct Period: Encodable {
        var date: String
        var stats: [Entry]
    }

    struct Entry: Encodable {
        var metrics: StatsMetrics
    }

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("stats") { request, context in try await stats(request, context) }
    }

    func stats(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.statsRead)
        let parameters = request.uri.queryParameters
        var errors: [APIError] = []
        let start = parameters["start_date"].flatMap { MessageDate.startOfDay(parsing: String($0)) }
        if start == nil { errors.append(APIError("start_date is required, as YYYY-MM-DD", field: "start_date")) }
        let today = clock() - clock() % 86400
        var end = today
        if let text = parameters["end_date"] {
            if let day = MessageDate.startOfDay(parsing: String(text)) { end = day } else {
                errors.append(APIError("end_date must be a date, YYYY-MM-DD", field: "end_date"))
            }
        }
        let aggregation = parameters["aggregated_by"].map(String.init) ?? "day"
        if !["day", "week", "month"].contains(aggregation) {
            errors.append(APIError("aggregated_by must be day, week or month", field: "aggregated_by"))
        }
        if let start, start > end { errors.append(APIError("start_date must not be after end_date", field: "start_date")) }
        if let start, (end - start) / 86400 >= Self.maximumDays {
            errors.append(APIError("the range may span at most \(Self.maximumDays) days", field: "end_date"))
        }
        guard errors.isEmpty, let start else { throw APIFailure(.badRequest, errors) }
        let days = try await activity.dailyEvents(account: key.user, from: start, to: end + 86400)
        let byDay = Dictionary(uniqueKeysWithValues: days.map { ($0.day, StatsMetrics(counts: $0.counts, bounceReplies: $0.bounceReplies, dropReasons: $0.dropReasons)) })
        var periods: [(label: Int, metrics: StatsMetrics)] = []
        for day in stride(from: start, through: end, by: 86400) {
            let metrics = byDay[day] ?? StatsMetrics()
            if let last = periods.last, Self.samePeriod(last.label, day, aggregation) {
                periods[periods.count - 1].metrics = last.metrics + metrics
            } else {
                periods.append((day, metrics))
            }
        }
        return APIJSON.response(periods.map { Period(date: MessageDate.day(unixSeconds: $0.label), stats: [Entry(metrics: $0.metrics)]) })
    }

    /// Whether `day` belongs to the period that began at `first` (weeks start on Monday, ISO
    /// 8601; a period's label is its first day inside the range).
    static func samePeriod(_ first: Int, _ day: Int, _ aggregation: String) -> Bool {
        switch aggregation {
        case "week":
            // 1970-01-01 was a Thursday: shift so that weeks start on Monday.
            return (first / 86400 + 3) / 7 == (day / 86400 + 3) / 7
        case "month":
            return MessageDate.day(unixSeconds: first).prefix(7) == MessageDate.day(unixSeconds: day).prefix(7)
        default:
            return false
        }
    }
}
