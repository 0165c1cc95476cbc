import Delivery
import MailCore
import Testing

/// The decision table: result × attempts × queue age × NOTIFY → next state, next attempt, notice.
@Suite struct DeliveryDecisionTests {
    // Retries after 60 s, then 300 s (repeating); give up after a day; a delay notice after 4 h.
    let schedule = RetrySchedule(intervals: [60, 300], maxQueueAge: 86400)
    let warning = 4 * 3600
    static let q = 1_000_000  // queued at

    struct Row: Sendable, CustomStringConvertible {
        var name: String
        var attempt: DeliveryDecision.Attempt
        var expected: DeliveryDecision
        var description: String { name }
    }

    static let failure = DSNNotify(failure: true)
    static let delayToo = DSNNotify(failure: true, delay: true)
    static let never = DSNNotify(never: true)

    static let rows: [Row] = [
        Row(name: "2xx delivers", attempt: .init(result: .delivered, previousAttempts: 0, queuedAt: q, now: q),
            expected: DeliveryDecision(state: .delivered)),
        Row(name: "2xx keeps an earlier delay notice", attempt: .init(result: .delivered, previousAttempts: 3, queuedAt: q, now: q + 20000, delayNotified: true),
            expected: DeliveryDecision(state: .delivered, delayNotified: true)),
        Row(name: "5xx bounces with a failure notice by default", attempt: .init(result: .rejected, previousAttempts: 0, queuedAt: q, now: q),
            expected: DeliveryDecision(state: .bounced, notice: .failure)),
        Row(name: "5xx with NOTIFY=NEVER bounces silently", attempt: .init(result: .rejected, previousAttempts: 0, queuedAt: q, now: q, notify: never),
            expected: DeliveryDecision(state: .bounced)),
        Row(name: "5xx with NOTIFY=DELAY only: no failure notice",
            attempt: .init(result: .rejected, previousAttempts: 0, queuedAt: q, now: q, notify: DSNNotify(delay: true)),
            expected: DeliveryDecision(state: .bounced)),
        Row(name: "first 4xx retries after the first interval", attempt: .init(result: .deferred, previousAttempts: 0, queuedAt: q, now: q + 5),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 65)),
        Row(name: "second 4xx uses the second interval", attempt: .init(result: .deferred, previousAttempts: 1, queuedAt: q, now: q + 70),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 370)),
        Row(name: "the last interval repeats", attempt: .init(result: .deferred, previousAttempts: 9, queuedAt: q, now: q + 3000),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 3300)),
        Row(name: "the final try is at the expiry, never later", attempt: .init(result: .deferred, previousAttempts: 9, queuedAt: q, now: q + 86300),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 86400)),
        Row(name: "4xx at the maximum age bounces, marked expired", attempt: .init(result: .deferred, previousAttempts: 30, queuedAt: q, now: q + 86400),
            expected: DeliveryDecision(state: .bounced, notice: .failure, expired: true)),
        Row(name: "expiry with NOTIFY=NEVER is silent", attempt: .init(result: .deferred, previousAttempts: 30, queuedAt: q, now: q + 90000, notify: never),
            expected: DeliveryDecision(state: .bounced, expired: true)),
        Row(name: "NOTIFY=DELAY before the warning time: no notice",
            attempt: .init(result: .deferred, previousAttempts: 2, queuedAt: q, now: q + 3600, notify: delayToo),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 3900)),
        Row(name: "NOTIFY=DELAY after 4 h: one delay notice",
            attempt: .init(result: .deferred, previousAttempts: 5, queuedAt: q, now: q + 4 * 3600, notify: delayToo),
            expected: DeliveryDecision(
                state: .deferred, nextAttemptAt: q + 4 * 3600 + 300, notice: .delay(willRetryUntil: q + 86400), delayNotified: true)),
        Row(name: "a delay notice is sent once",
            attempt: .init(result: .deferred, previousAttempts: 6, queuedAt: q, now: q + 5 * 3600, notify: delayToo, delayNotified: true),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 5 * 3600 + 300, delayNotified: true)),
        Row(name: "no NOTIFY: never a delay notice", attempt: .init(result: .deferred, previousAttempts: 5, queuedAt: q, now: q + 5 * 3600),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 5 * 3600 + 300)),
        Row(name: "NOTIFY=FAILURE: no delay notice", attempt: .init(result: .deferred, previousAttempts: 5, queuedAt: q, now: q + 5 * 3600, notify: failure),
            expected: DeliveryDecision(state: .deferred, nextAttemptAt: q + 5 * 3600 + 300)),
    ]

    @Test(arguments: rows)
    func decision(_ row: Row) {
        #expect(DeliveryDecision.decide(row.attempt, schedule: schedule, delayWarning: warning) == row.expected)
    }
}
