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
        /// `category` and its name in category stats; absent in global stats.
        var type: String?
        var name: String?
        var metrics: StatsMetrics
    }

    /// SendGrid takes at most ten categories per request.
    static let maximumCategories = 10

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("stats") { request, context in try await stats(request, context) }
        router.get("categories/stats") { request, context in try await categoryStats(request, context) }
    }

    func stats(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.statsRead)
        let range = try Self.range(request.uri.queryParameters, clock: clock, extra: [])
        let periods = try await periods(account: key.user, range, category: nil)
        return APIJSON.response(periods.map { Period(date: MessageDate.day(unixSeconds: $0.label), stats: [Entry(metrics: $0.metrics)]) })
    }

    /// `GET /v3/categories/stats?categories=a&categories=b`: the same metrics per category.
    func categoryStats(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.statsRead)
        let parameters = request.uri.queryParameters
        let categories = parameters.getAll("categories").map { String($0) }
        var problems: [APIError] = []
        if categories.isEmpty { problems.append(APIError("categories is required", field: "categories")) }
        if categories.count > Self.maximumCategories {
            problems.append(APIError("at most \(Self.maximumCategories) categories", field: "categories"))
        }
        let range = try Self.range(parameters, clock: clock, extra: problems)
        var byCategory: [(name: String, periods: [(label: Int, metrics: StatsMetrics)])] = []
        for category in categories { byCategory.append((category, try await periods(account: key.user, range, category: category))) }
        let labels = byCategory.first?.periods.map(\.label) ?? []
        return APIJSON.response(
            labels.enumerated().map { index, label in
                Period(
                    date: MessageDate.day(unixSeconds: label),
                    stats: byCategory.map { Entry(type: "category", name: $0.name, metrics: $0.periods[index].metrics) })
            })
    }

    struct DayRange {
        var start: Int
        var end: Int
        var aggregation: String
    }

    /// `start_date`, `end_date` and `aggregated_by`, checked; every problem (with `extra`) in one 400.
    static func range(_ parameters: Hummingbird.Parameters, clock: @Sendable () -> Int, extra: [APIError]) throws(APIFailure) -> DayRange {
        var errors = extra
        let start = parameters["start_date"].flatMap { MessageDate.startOfDay(parsing: String($0)) }
        if start == nil { errors.append(APIError("start_date is required, as YYYY-MM-DD", field: "start_date")) }
        let now = clock()
        var end = now - now % 86400
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
        if let start, (end - start) / 86400 >= maximumDays {
            errors.append(APIError("the range may span at most \(maximumDays) days", field: "end_date"))
        }
        guard errors.isEmpty, let start else { throw APIFailure(.badRequest, errors) }
        return DayRange(start: start, end: end, aggregation: aggregation)
    }

    /// The metrics of each period of the range (days, weeks or months).
    func periods(account: String, _ range: DayRange, category: String?) async throws -> [(label: Int, metrics: StatsMetrics)] {
        let days = try await activity.dailyEvents(account: account, from: range.start, to: range.end + 86400, category: category)
        let byDay = Dictionary(
            uniqueKeysWithValues: days.map {
                ($0.day, StatsMetrics(counts: $0.counts, bounceReplies: $0.bounceReplies, dropReasons: $0.dropReasons, uniqueCounts: $0.uniqueCounts))
            })
        var periods: [(label: Int, metrics: StatsMetrics)] = []
        for day in stride(from: range.start, through: range.end, by: 86400) {
            let metrics = byDay[day] ?? StatsMetrics()
            if let last = periods.last, Self.samePeriod(last.label, day, range.aggregation) {
                periods[periods.count - 1].metrics = last.metrics + metrics
            } else {
                periods.append((day, metrics))
            }
        }
        return periods
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
