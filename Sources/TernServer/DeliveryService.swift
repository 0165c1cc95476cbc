import Delivery
import ServiceLifecycle

/// The delivery scheduler as a service. On graceful shutdown it stops leasing; sessions finish
/// the batch in hand and their outcomes are recorded (up to `grace`); whatever stays leased is
/// due again at the next start.
struct DeliveryService: Service {
    let scheduler: DeliveryScheduler
    let grace: Duration

    func run() async throws {
        let scheduler = self.scheduler
        await withGracefulShutdownHandler {
            await scheduler.run()
        } onGracefulShutdown: {
            Task { await scheduler.stop() }
        }
        _ = await scheduler.waitUntilIdle(timeout: grace)
    }
}
