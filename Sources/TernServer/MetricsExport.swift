import CoreMetrics
import MailStore
import Metrics
import Prometheus

/// `/metrics`: every swift-metrics counter, meter and timer of the process in Prometheus text,
/// plus what is read from the store at scrape time (the queue by state, the webhook backlog).
final class MetricsExport: Sendable {
    let registry: PrometheusCollectorRegistry
    let store: any ServerStore

    /// Bootstraps swift-metrics once per process with a Prometheus registry.
    static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Delivery latency runs from milliseconds (a local mailbox) to days (retries).
        factory.durationHistogramBuckets["tern_delivery_latency_seconds"] = [
            .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
            .seconds(3600), .seconds(4 * 3600), .seconds(86400),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    init(store: any ServerStore) {
        self.registry = Self.shared
        self.store = store
    }

    /// `tern_queue_recipients{state}` and `tern_webhook_backlog_events`, read from the store.
    static var queueRecipients: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "tern", metricName: "queue", unitName: "recipients", helpText: "Recipients in the queue, by state")
    }

    static var webhookBacklog: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "tern", subsystem: "webhook", metricName: "backlog", unitName: "events", helpText: "Events waiting for webhook delivery")
    }

    func render() async -> String {
        if let counts = try? await store.activeRecipientCounts() {
            for (state, count) in counts {
                registry.makeGauge(descriptor: Self.queueRecipients, labels: [("state", state.rawValue)]).set(Double(count))
            }
        }
        if let backlog = try? await store.webhookBacklog() {
            registry.makeGauge(descriptor: Self.webhookBacklog).set(Double(backlog))
        }
        return registry.emitToString()
    }
}
