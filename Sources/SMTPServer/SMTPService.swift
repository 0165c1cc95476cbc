import Logging
import MailCore
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol

/// One address to listen on, and the service it provides.
public struct SMTPListenerSpec: Sendable {
    public var host: String
    public var port: Int
    public var kind: ListenerKind
    /// The configuration key it came from, for error messages ("listen.smtp").
    public var configurationKey: String

    public init(host: String, port: Int, kind: ListenerKind, configurationKey: String) {
        self.host = host
        self.port = port
        self.kind = kind
        self.configurationKey = configurationKey
    }
}

/// A listener that could not be opened, named by address and configuration key.
public struct ListenError: Error, CustomStringConvertible {
    public var spec: SMTPListenerSpec
    public var reason: String
    public var description: String { "cannot listen on \(spec.host):\(spec.port) (\(spec.configurationKey)): \(reason)" }
}

/// Settings shared by every SMTP listener.
public struct SMTPServiceSettings: Sendable {
    public var hostname: String
    public var maximumMessageSize: Int
    public var maximumRecipients: Int
    public var maximumConnections: Int
    public var maximumConnectionsPerClient: Int
    public var commandTimeout: TimeAmount
    public var connectionTimeout: TimeAmount
    public var trustedNetworks: [NetworkRange]
    /// New connections per client address per minute; 0 is unlimited.
    public var maximumConnectionRatePerClient = 0
    /// AUTH failures from one address before answers slow down, and before it is blocked.
    public var authFailuresBeforeDelay = 3
    public var authFailuresBeforeBlock = 10
    public var authBlockTime: TimeAmount = .minutes(5)
    /// The account trusted-network mail is attributed to, or nil.
    public var trustedAccount: String?
    /// SASL mechanisms offered on the submission listeners (never on the MX).
    public var authMechanisms: [String] = ["PLAIN", "LOGIN", "SCRAM-SHA-256"]

    public init(
        hostname: String, maximumMessageSize: Int, maximumRecipients: Int, maximumConnections: Int, maximumConnectionsPerClient: Int,
        commandTimeout: TimeAmount, connectionTimeout: TimeAmount, trustedNetworks: [NetworkRange]
    ) {
        self.hostname = hostname
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerClient = maximumConnectionsPerClient
        self.commandTimeout = commandTimeout
        self.connectionTimeout = connectionTimeout
        self.trustedNetworks = trustedNetworks
    }
}

/// The SMTP listeners (MX, submission, implicit-TLS submission) and their connections.
public final class SMTPService: Sendable {
    private let settings: SMTPServiceSettings
    private let policy: any SMTPPolicy
    private let tlsContext: NIOSSLContext?
    private let group: any EventLoopGroup
    private let logger: Logger
    private let limiter: ConnectionLimiter
    private let registry = ConnectionRegistry()
    private let throttle: AuthFailureThrottle

    public init(settings: SMTPServiceSettings, policy: any SMTPPolicy, tlsContext: NIOSSLContext?, group: any EventLoopGroup, logger: Logger) {
        self.settings = settings
        self.policy = policy
        self.tlsContext = tlsContext
        self.group = group
        self.logger = logger
        self.limiter = ConnectionLimiter(
            maximumTotal: settings.maximumConnections, maximumPerAddress: settings.maximumConnectionsPerClient,
            maximumRatePerMinute: settings.maximumConnectionRatePerClient)
        self.throttle = AuthFailureThrottle(
            delayAfter: settings.authFailuresBeforeDelay, blockAfter: settings.authFailuresBeforeBlock, blockTime: settings.authBlockTime)
    }

    /// Binds one listener; throws `ListenError` naming the address when it cannot.
    public func bind(_ spec: SMTPListenerSpec) async throws -> any Channel {
        let settings = self.settings
        let policy = self.policy
        let tlsContext = self.tlsContext
        let limiter = self.limiter
        let registry = self.registry
        let throttle = self.throttle
        let logger = self.logger
        if spec.kind == .submissions && tlsContext == nil {
            throw ListenError(spec: spec, reason: "implicit TLS needs a certificate")
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let client = channel.remoteAddress?.ipAddress ?? "unknown"
                    if let refusal = limiter.acquire(client, minute: Int(time(nil)) / 60) {
                        logger.notice("connection refused", metadata: ["client": "\(client)", "limit": "\(refusal)"])
                        var out = channel.allocator.buffer(capacity: 64)
                        (refusal == .connectionRate ? SMTPReply.connectionRateExceeded : SMTPReply.tooManyConnections).encode(into: &out)
                        channel.writeAndFlush(out).whenComplete { _ in channel.close(promise: nil) }
                        return
                    }
                    channel.closeFuture.whenComplete { _ in limiter.release(client) }
                    let trusted = settings.trustedNetworks.contains { $0.contains(client) }
                    let configuration = SMTPServerSessionConfiguration(
                        hostname: settings.hostname, kind: spec.kind,
                        startTLSAvailable: tlsContext != nil && spec.kind != .submissions,
                        implicitTLS: spec.kind == .submissions, clientIsTrusted: trusted,
                        maximumMessageSize: settings.maximumMessageSize, maximumRecipients: settings.maximumRecipients,
                        authMechanisms: spec.kind == .mx ? [] : settings.authMechanisms,
                        commandTimeout: settings.commandTimeout, connectionTimeout: settings.connectionTimeout)
                    let sync = channel.pipeline.syncOperations
                    if spec.kind == .submissions, let tlsContext {
                        try sync.addHandler(NIOSSLServerHandler(context: tlsContext))
                    }
                    try sync.addHandler(
                        SMTPConnectionHandler(
                            configuration: configuration, policy: policy,
                            connection: ConnectionInfo(
                                clientAddress: client, listener: spec.kind, clientIsTrusted: trusted,
                                authenticatedAs: trusted ? settings.trustedAccount : nil),
                            tlsContext: tlsContext, registry: registry, throttle: throttle, logger: logger))
                }
            }
        do {
            return try await bootstrap.bind(host: spec.host, port: spec.port).get()
        } catch let error as IOError {
            throw ListenError(spec: spec, reason: String(cString: strerror(error.errnoCode)))
        } catch {
            throw ListenError(spec: spec, reason: "\(error)")
        }
    }

    /// Live connections right now.
    public var activeConnections: Int { registry.count }

    /// Asks every session to finish its transaction and close with 421 4.3.2.
    public func beginShutdown() { registry.beginShutdown() }

    /// Closes every session that is not in the middle of a durable write.
    public func forceClose() { registry.forceClose() }
}
