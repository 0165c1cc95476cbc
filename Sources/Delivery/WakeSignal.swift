import Synchronization

/// Lets the scheduler sleep until either a deadline or a `fire()` (new mail committed, an
/// attempt recorded). A fire while nobody waits is remembered, so no wake-up is lost. The wait
/// is structured: the deadline runs as a child task, and cancelling the waiting task ends it.
final class WakeSignal: Sendable {
    private struct State {
        var fired = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.fired = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the first of: a `fire()` (now or remembered), `seconds` of `clock`'s time,
    /// or cancellation.
    func wait(seconds: Double, clock: any DeliveryClock) async {
        if state.withLock({ state in
            defer { state.fired = false }
            return state.fired
        }) { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForFire() }
            group.addTask { await clock.sleep(for: .milliseconds(Int64(seconds * 1000))) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForFire() async {
        let generation = state.withLock { state -> Int in
            state.generation += 1
            return state.generation
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired {
                        state.fired = false
                        return true
                    }
                    // Cancelled before this registered.
                    if state.generation != generation { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard state.generation == generation else { return nil }
                // Invalidates a registration that has not happened yet.
                state.generation += 1
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
