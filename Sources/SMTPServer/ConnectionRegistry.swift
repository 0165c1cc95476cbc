import NIOCore
import Synchronization

/// The live SMTP connections, so shutdown can ask each to finish (RFC 5321 §3.8: 421 on close).
final class ConnectionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        // Only touched on `eventLoop`.
        let handler: SMTPConnectionHandler
        let eventLoop: any EventLoop
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    func register(_ handler: SMTPConnectionHandler, on eventLoop: any EventLoop) {
        entries.withLock { $0[ObjectIdentifier(handler)] = Entry(handler: handler, eventLoop: eventLoop) }
    }

    func unregister(_ handler: SMTPConnectionHandler) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(handler)) }
    }

    var count: Int { entries.withLock { $0.count } }

    func beginShutdown() {
        for entry in entries.withLock({ Array($0.values) }) {
            entry.eventLoop.execute { entry.handler.beginShutdown() }
        }
    }

    func forceClose() {
        for entry in entries.withLock({ Array($0.values) }) {
            entry.eventLoop.execute { entry.handler.forceClose() }
        }
    }
}
