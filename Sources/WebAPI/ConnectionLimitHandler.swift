import MailService
import Metrics
import NIOCore

/// The HTTP listeners' share of the abuse limits every protocol uses: a connection counts
/// toward the total and the per-client caps (and the connection rate) in the one
/// `AbuseLimits`, as SMTP's and POP3's do. Over a limit the connection is closed at once.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    // Reads pass through untouched (the default `channelRead` forwards them), whatever the
    // parts' type: this handler only watches the connection's life.
    typealias InboundIn = NIOAny

    let limits: AbuseLimits
    let listener: String
    /// Set while this connection holds a place in the limits.
    private var client: String?
    private let open: Meter

    init(limits: AbuseLimits, listener: String) {
        self.limits = limits
        self.listener = listener
        self.open = ServiceMetrics.openConnections(listener: listener)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if limits.openConnection(from: address) != nil {
            ServiceMetrics.connection(listener: listener, refused: true)
            context.close(promise: nil)
            return
        }
        ServiceMetrics.connection(listener: listener, refused: false)
        open.increment()
        client = address
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func release() {
        guard let client else { return }
        limits.closeConnection(from: client)
        open.decrement()
        self.client = nil
    }
}
