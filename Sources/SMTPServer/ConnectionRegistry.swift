import NIOCore
import Synchronization

/// The live SMTP connections, so shutdown can ask each to finish (RFC 5321 §3.8: 421 on close)
/// and wait, without polling, until the last one is gone.
final class ConnectionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        // Only touched on `eventLoop`.
        let handler: SMTPConnectionHandler
        let eventLoop: any EventLoop
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    func register(_ handler: SMTPConnectionHandler, on eventLoop: any EventLoop) {
        state.withLock { $0.entries[ObjectIdentifier(handler)] = Entry(handler: handler, eventLoop: eventLoop) }
    }

    func unregister(_ handler: SMTPConnectionHandler) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.entries.removeValue(forKey: ObjectIdentifier(handler))
            guard state.entries.isEmpty else { return [] }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Returns true once no connection is left, or false when `timeout` passes first.
    func waitUntilEmpty(timeout: Duration) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let id = state.withLock { state -> Int? in
                guard !state.entries.isEmpty else { return nil }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let id else { return continuation.resume(returning: true) }
            Task {
                try? await Task.sleep(for: timeout)
                self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
            }
        }
    }

    func beginShutdown() {
        for entry in state.withLock({ Array($0.entries.values) }) {
            entry.eventLoop.execute { entry.handler.beginShutdown() }
        }
    }

    func forceClose() {
        for entry in state.withLock({ Array($0.entries.values) }) {
            entry.eventLoop.execute { entry.handler.forceClose() }
        }
    }
}
