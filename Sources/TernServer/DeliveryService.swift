import Delivery
import ServiceLifecycle

/// The delivery scheduler as a service. On graceful shutdown it stops leasing; sessions finish
/// the batch in hand and their outcomes are recorded; a session still talking to a peer after
/// `grace` is aborted (its unfinished transaction deferred). Whatever stays leased is due again
/// at the next start. Structured: `run` returns only once every session has ended.
struct DeliveryService: Service {
    let scheduler: DeliveryScheduler
    let grace: Duration

    func run() async throws {
        let scheduler = self.scheduler
        let grace = self.grace
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await scheduler.run()
                return true
            }
            group.addTask {
                // Throws when cancelled: the scheduler ended first, or the group was cancelled
                // (which cancels `run` too, and that aborts its sessions).
                guard (try? await gracefulShutdown()) != nil else { return false }
                await scheduler.stop(grace: grace)
                return false
            }
            while let schedulerEnded = await group.next() {
                if schedulerEnded { group.cancelAll() }
            }
        }
    }
}
