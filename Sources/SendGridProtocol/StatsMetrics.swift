/// SendGrid's global stats metrics for one period (`GET /v3/stats`), counted from events, so
/// stats always equal event counts. Unique opens and clicks count recipients (per day) with
/// one that no machine made.
public struct StatsMetrics: Hashable, Sendable, Encodable {
    public var blocks = 0
    public var bounceDrops = 0
    public var bounces = 0
    public var clicks = 0
    public var deferred = 0
    public var delivered = 0
    public var invalidEmails = 0
    public var opens = 0
    public var processed = 0
    public var requests = 0
    public var spamReportDrops = 0
    public var spamReports = 0
    public var uniqueClicks = 0
    public var uniqueOpens = 0
    public var unsubscribeDrops = 0
    public var unsubscribes = 0

    enum CodingKeys: String, CodingKey {
        case blocks, bounces, clicks, deferred, delivered, opens, processed, requests, unsubscribes
        case bounceDrops = "bounce_drops"
        case invalidEmails = "invalid_emails"
        case spamReportDrops = "spam_report_drops"
        case spamReports = "spam_reports"
        case uniqueClicks = "unique_clicks"
        case uniqueOpens = "unique_opens"
        case unsubscribeDrops = "unsubscribe_drops"
    }

    public init() {}

    /// Metrics from Tern's event counts (`queued`, `delivered`, `deferred`, `bounced`, …) and
    /// the replies of the bounces (blocked and bounced are told apart as in events).
    public init(counts: [String: Int], bounceReplies: [String], dropReasons: [String] = [], uniqueCounts: [String: Int] = [:]) {
        opens = counts["open"] ?? 0
        clicks = counts["click"] ?? 0
        uniqueOpens = uniqueCounts["open"] ?? 0
        uniqueClicks = uniqueCounts["click"] ?? 0
        unsubscribes = (counts["unsubscribe"] ?? 0) + (counts["group_unsubscribe"] ?? 0)
        spamReports = counts["spamreport"] ?? 0
        processed = counts["queued"] ?? 0
        delivered = counts["delivered"] ?? 0
        deferred = counts["deferred"] ?? 0
        for reply in bounceReplies {
            let classification = EventPayload.bounceClassification(status: EventPayload.enhancedStatus(in: reply) ?? "5.0.0")
            if classification == "Reputation" || classification == "Content" { blocks += 1 } else { bounces += 1 }
        }
        for reason in dropReasons {
            switch reason {
            case "Bounced Address": bounceDrops += 1
            case "Spam Reporting Address": spamReportDrops += 1
            case "Unsubscribed Address": unsubscribeDrops += 1
            default: invalidEmails += 1
            }
        }
        // SendGrid counts a request per recipient. A dropped recipient here was processed
        // first (its message was accepted), so requests are the processed ones.
        requests = processed
    }

    public static func + (lhs: StatsMetrics, rhs: StatsMetrics) -> StatsMetrics {
        var sum = StatsMetrics()
        sum.blocks = lhs.blocks + rhs.blocks
        sum.bounceDrops = lhs.bounceDrops + rhs.bounceDrops
        sum.bounces = lhs.bounces + rhs.bounces
        sum.clicks = lhs.clicks + rhs.clicks
        sum.deferred = lhs.deferred + rhs.deferred
        sum.delivered = lhs.delivered + rhs.delivered
        sum.invalidEmails = lhs.invalidEmails + rhs.invalidEmails
        sum.opens = lhs.opens + rhs.opens
        sum.processed = lhs.processed + rhs.processed
        sum.requests = lhs.requests + rhs.requests
        sum.spamReportDrops = lhs.spamReportDrops + rhs.spamReportDrops
        sum.spamReports = lhs.spamReports + rhs.spamReports
        sum.uniqueClicks = lhs.uniqueClicks + rhs.uniqueClicks
        sum.uniqueOpens = lhs.uniqueOpens + rhs.uniqueOpens
        sum.unsubscribeDrops = lhs.unsubscribeDrops + rhs.unsubscribeDrops
        sum.unsubscribes = lhs.unsubscribes + rhs.unsubscribes
        return sum
    }
}
