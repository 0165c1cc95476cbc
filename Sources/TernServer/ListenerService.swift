import Logging
import NIOCore
import ServiceLifecycle
import SMTPServer

/// Every bound listener of `tern serve`, as one service. On graceful shutdown it stops
/// accepting, lets SMTP transactions in flight finish (idle sessions get 421 4.3.2 at once),
/// and after `grace` closes the rest, except sessions whose durable write is in flight, which
/// get their answer first (RFC 5321 §3.8).
struct ListenerService: Service {
    let channels: [any Channel]
    let smtp: SMTPService
    let grace: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down")
        for channel in channels { try? await channel.close() }
        smtp.beginShutdown()
        guard await !smtp.waitUntilClosed(timeout: grace) else { return }
        smtp.forceClose()
        // A session in the middle of a durable write closes once its write is answered.
        _ = await smtp.waitUntilClosed(timeout: .seconds(5))
    }
}
