/// One limit a message is charged against (RFC-free: a hosted service's plan).
public struct UsageLimit: Hashable, Sendable {
    /// What is counted and for when, e.g. `day:2026-11-22`; one counter row per key.
    public var period: String
    public var limit: Int
    /// Recipients count (hosted services count a message once per recipient), or messages.
    public var perRecipient: Bool
    /// Unix seconds when the counter starts again.
    public var resetsAt: Int
    /// For the reply: "daily", "hourly", "per-minute".
    public var name: String

    public init(period: String, limit: Int, perRecipient: Bool, resetsAt: Int, name: String) {
        self.period = period
        self.limit = limit
        self.perRecipient = perRecipient
        self.resetsAt = resetsAt
        self.name = name
    }

    /// The units one message with `recipients` recipients uses of this limit.
    public func units(recipients: Int) -> Int { perRecipient ? recipients : 1 }
}

/// What accepting a message costs an account; checked and counted in the same transaction that
/// stores the message, so concurrent sessions can never overshoot a limit together.
public struct UsageCharge: Hashable, Sendable {
    public var account: String
    public var recipients: Int
    public var limits: [UsageLimit]

    public init(account: String, recipients: Int, limits: [UsageLimit]) {
        self.account = account
        self.recipients = recipients
        self.limits = limits
    }
}

/// The limits of a plan at a moment, as periods keyed by UTC day, hour and minute.
public struct PlanLimits: Hashable, Sendable {
    public var dailyMessages: Int?
    public var hourlyMessages: Int?
    public var messagesPerMinute: Int?
    public var maxRecipientsPerMessage: Int?
    public var maxMessageSize: Int?

    public init(
        dailyMessages: Int? = nil, hourlyMessages: Int? = nil, messagesPerMinute: Int? = nil, maxRecipientsPerMessage: Int? = nil,
        maxMessageSize: Int? = nil
    ) {
        self.dailyMessages = dailyMessages
        self.hourlyMessages = hourlyMessages
        self.messagesPerMinute = messagesPerMinute
        self.maxRecipientsPerMessage = maxRecipientsPerMessage
        self.maxMessageSize = maxMessageSize
    }

    /// The counters that apply at `now` (Unix seconds). Daily resets at UTC midnight.
    public func usageLimits(at now: Int) -> [UsageLimit] {
        var limits: [UsageLimit] = []
        let day = now - now % 86400
        let hour = now - now % 3600
        let minute = now - now % 60
        if let dailyMessages {
            limits.append(UsageLimit(period: "day:\(day)", limit: dailyMessages, perRecipient: true, resetsAt: day + 86400, name: "daily"))
        }
        if let hourlyMessages {
            limits.append(UsageLimit(period: "hour:\(hour)", limit: hourlyMessages, perRecipient: true, resetsAt: hour + 3600, name: "hourly"))
        }
        if let messagesPerMinute {
            limits.append(
                UsageLimit(period: "minute:\(minute)", limit: messagesPerMinute, perRecipient: false, resetsAt: minute + 60, name: "per-minute"))
        }
        return limits
    }
}
