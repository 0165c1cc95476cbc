import MailService
import ServiceLifecycle

/// The webhook dispatcher as a service: it stops at shutdown between batches; a batch cut off
/// is sent again after the restart (the cursor had not moved).
struct WebhookService: Service {
    let dispatcher: WebhookDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown { await dispatcher.run() }
    }
}
