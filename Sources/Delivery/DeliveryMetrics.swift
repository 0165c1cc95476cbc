import MailStore
import Metrics

/// The delivery engine's metrics (exported with the rest at `/metrics`).
enum DeliveryMetrics {
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
}
