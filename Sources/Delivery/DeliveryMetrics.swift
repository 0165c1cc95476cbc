import MailStore
import Metrics

/// The delivery engine's metrics (exported with the rest at `/metrics`).
public enum DeliveryMetrics {
    /// Attempts by result (`delivered`, `deferred`, `bounced`), and the matching events.
    static func recorded(_ outcomes: [DeliveryOutcome]) {
        var counts: [RecipientState: Int] = [:]
        for outcome in outcomes where outcome.countsAsAttempt { counts[outcome.state, default: 0] += 1 }
        for (state, count) in counts {
            Counter(label: "tern_delivery_attempts_total", dimensions: [("result", state.rawValue)]).increment(by: count)
            let event = state == .bounced ? "bounce" : state.rawValue
            Counter(label: "tern_events_total", dimensions: [("type", event)]).increment(by: count)
        }
    }

    /// Seconds from acceptance to delivery of one recipient.
    static func delivered(afterSeconds seconds: Int) {
        Timer(label: "tern_delivery_latency_seconds").recordSeconds(max(0, seconds))
    }

    /// Recipients that reached their mailboxes in the transaction that accepted their mail
    /// (`CommitReport`): delivered attempts and events like the scheduler's, at no delay.
    public static func deliveredAtAccept(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "tern_delivery_attempts_total", dimensions: [("result", RecipientState.delivered.rawValue)]).increment(by: count)
        Counter(label: "tern_events_total", dimensions: [("type", RecipientState.delivered.rawValue)]).increment(by: count)
        let latency = Timer(label: "tern_delivery_latency_seconds")
        for _ in 0..<count { latency.recordSeconds(0) }
    }
}
