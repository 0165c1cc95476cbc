import Logging
import MailService
import Metrics
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One address a protocol listens on.
public struct ListenerEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The configuration key it came from, for error messages ("listen.smtp").
    public var configurationKey: String
    /// TLS from the first byte (RFC 8314 §3: submissions, pop3s, imaps).
    public var implicitTLS: Bool

    public init(host: String, port: Int, configurationKey: String, implicitTLS: Bool = false) {
        self.host = host
        self.port = port
        self.configurationKey = configurationKey
        self.implicitTLS = implicitTLS
    }
}

/// A listener that could not be opened, named by address and configuration key.
public struct ListenError: Error, CustomStringConvertible {
    public var address: ListenerEndpoint
    public var reason: String

    public init(address: ListenerEndpoint, reason: String) {
        self.address = address
        self.reason = reason
    }

    public var description: String { "cannot listen on \(address.host):\(address.port) (\(address.configurationKey)): \(reason)" }
}

/// The one listener set-up of every TCP protocol: bootstrap, the shared connection limits,
/// implicit TLS, and output backpressure (see `InboundFlow`).
public struct ProtocolListener: Sendable {
    /// Replies beyond 64 KiB that the peer has not read make the channel unwritable; below
    /// 16 KiB it is writable again.
    public static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 16 * 1024, high: 64 * 1024)

    public let group: any EventLoopGroup
    public let limits: AbuseLimits
    public let tlsContext: NIOSSLContext?
    public let logger: Logger

    public init(group: any EventLoopGroup, limits: AbuseLimits, tlsContext: NIOSSLContext?, logger: Logger) {
        self.group = group
        self.limits = limits
        self.tlsContext = tlsContext
        self.logger = logger
    }

    /// Binds `address`. For each accepted connection within the limits, `makeHandler` builds the
    /// protocol's handler (after the TLS handler when TLS is implicit); over a limit the client
    /// gets `refusal`'s line and the connection closes.
    public func bind(
        _ address: ListenerEndpoint, refusal: @escaping @Sendable (AbuseLimits.ConnectionRefusal) -> String,
        makeHandler: @escaping @Sendable (_ channel: any Channel, _ clientAddress: String) throws -> any ChannelHandler
    ) async throws(ListenError) -> any Channel {
        if address.implicitTLS && tlsContext == nil { throw ListenError(address: address, reason: "implicit TLS needs a certificate") }
        let limits = self.limits
        let tlsContext = address.implicitTLS ? self.tlsContext : nil
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let client = channel.remoteAddress?.ipAddress ?? "unknown"
                    let listener = address.configurationKey
                    if let refused = limits.openConnection(from: client) {
                        ServiceMetrics.connection(listener: listener, refused: true)
                        logger.notice(
                            "connection refused",
                            metadata: ["client": "\(client)", "limit": "\(refused)", "service": "\(address.configurationKey)"])
                        var out = channel.allocator.buffer(capacity: 64)
                        out.writeString(refusal(refused))
                        channel.writeAndFlush(out).whenComplete { _ in channel.close(promise: nil) }
                        return
                    }
                    ServiceMetrics.connection(listener: listener, refused: false)
                    let open = ServiceMetrics.openConnections(listener: listener)
                    open.increment()
                    channel.closeFuture.whenComplete { _ in
                        limits.closeConnection(from: client)
                        open.decrement()
                    }
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext { try sync.addHandler(NIOSSLServerHandler(context: tlsContext)) }
                    try sync.addHandler(makeHandler(channel, client))
                }
            }
        do {
            return try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch let error as IOError {
            throw ListenError(address: address, reason: String(cString: strerror(error.errnoCode)))
        } catch {
            throw ListenError(address: address, reason: "\(error)")
        }
    }
}
