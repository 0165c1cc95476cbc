import Metrics

/// The application core's metrics (swift-metrics; `tern serve` exports them in Prometheus text
/// at `/metrics`). Labels take only bounded values: listener and protocol names, event types,
/// route patterns, status codes.
public enum ServiceMetrics {
    /// Messages stored, by the listener they came in on (`smtp`, `submission`, `submissions`,
    /// `http`, `https`).
    public static func accepted(listener: String, messages: Int = 1) {
        Counter(label: "tern_messages_accepted_total", dimensions: [("listener", listener)]).increment(by: messages)
    }

    /// Events, by SendGrid's type name (`processed`, `dropped`, `delivered`, …).
    public static func events(_ type: String, count: Int = 1) {
        guard count > 0 else { return }
        Counter(label: "tern_events_total", dimensions: [("type", type)]).increment(by: count)
    }

    /// A connection accepted or refused by a listener (`listen.smtp`, …).
    public static func connection(listener: String, refused: Bool) {
        Counter(label: "tern_connections_total", dimensions: [("listener", listener), ("result", refused ? "refused" : "accepted")]).increment()
    }

    /// Connections open now, per listener.
    public static func openConnections(listener: String) -> Meter {
        Meter(label: "tern_connections_open", dimensions: [("listener", listener)])
    }

    /// A failed login, by protocol (`smtp`, `pop3`, `http`).
    public static func authFailure(protocol name: String) {
        Counter(label: "tern_auth_failures_total", dimensions: [("protocol", name)]).increment()
    }

    /// An HTTP API request, by route pattern and status code.
    public static func apiRequest(endpoint: String, status: Int) {
        Counter(label: "tern_http_requests_total", dimensions: [("endpoint", endpoint), ("status", String(status))]).increment()
    }

    /// A webhook batch posted (`delivered`, `failed`, `given_up`).
    public static func webhookDelivery(result: String, events: Int) {
        Counter(label: "tern_webhook_deliveries_total", dimensions: [("result", result)]).increment()
        if result == "delivered" { Counter(label: "tern_webhook_events_total").increment(by: events) }
    }
}
