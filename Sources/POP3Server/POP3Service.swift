import Logging
import MailStore
import NIOCore
import NIOPosix
import NIOSSL
import POP3Protocol
import SASL
import SMTPServer
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Settings of the POP3 listeners (`[pop3]`).
public struct POP3ServiceSettings: Sendable {
    public var hostname: String
    /// USER/PASS and AUTH without TLS (`[pop3] allow_plaintext`); off by default.
    public var allowPlaintext: Bool
    public var mechanisms: [String]
    public var maximumConnections: Int
    public var maximumConnectionsPerClient: Int
    /// RFC 1939 §3: an autologout timer of at least 10 minutes.
    public var idleTimeout: TimeAmount

    public init(
        hostname: String, allowPlaintext: Bool = false, mechanisms: [String] = ["PLAIN", "LOGIN", "SCRAM-SHA-256"], maximumConnections: Int = 1000,
        maximumConnectionsPerClient: Int = 100, idleTimeout: TimeAmount = .minutes(10)
    ) {
        self.hostname = hostname
        self.allowPlaintext = allowPlaintext
        self.mechanisms = mechanisms
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerClient = maximumConnectionsPerClient
        self.idleTimeout = idleTimeout
    }
}

/// One maildrop per user at a time (RFC 1939 §8: the server "acquires an exclusive-access lock").
/// Process-local: several nodes sharing PostgreSQL will need a lock in the database.
public final class MaildropLocks: Sendable {
    private let held = Mutex<Set<String>>([])

    public init() {}

    public func acquire(_ user: String) -> Bool { held.withLock { $0.insert(user.lowercased()).inserted } }
    public func release(_ user: String) { _ = held.withLock { $0.remove(user.lowercased()) } }
}

/// The `pop3` (STLS) and `pop3s` (implicit TLS, RFC 8314) listeners.
public final class POP3Service: Sendable {
    let settings: POP3ServiceSettings
    let policy: any SMTPPolicy
    let mailboxes: any MailboxRepository
    let tlsContext: NIOSSLContext?
    let group: any EventLoopGroup
    let logger: Logger
    let limiter: ConnectionLimiter
    let throttle: AuthFailureThrottle
    let locks = MaildropLocks()

    /// `throttle` is shared with SMTP AUTH, so guessing over POP3 counts against the same address.
    public init(
        settings: POP3ServiceSettings, policy: any SMTPPolicy, mailboxes: any MailboxRepository, tlsContext: NIOSSLContext?, group: any EventLoopGroup,
        throttle: AuthFailureThrottle, logger: Logger
    ) {
        self.settings = settings
        self.policy = policy
        self.mailboxes = mailboxes
        self.tlsContext = tlsContext
        self.group = group
        self.throttle = throttle
        self.logger = logger
        self.limiter = ConnectionLimiter(maximumTotal: settings.maximumConnections, maximumPerAddress: settings.maximumConnectionsPerClient)
    }

    public func bind(host: String, port: Int, implicitTLS: Bool) async throws -> any Channel {
        let settings = self.settings
        let policy = self.policy
        let mailboxes = self.mailboxes
        let tlsContext = self.tlsContext
        let limiter = self.limiter
        let throttle = self.throttle
        let locks = self.locks
        let logger = self.logger
        if implicitTLS && tlsContext == nil { throw POP3ListenError(description: "pop3s on \(host):\(port) needs a certificate") }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let client = channel.remoteAddress?.ipAddress ?? "unknown"
                    if limiter.acquire(client, minute: Int(time(nil)) / 60) != nil {
                        var out = channel.allocator.buffer(capacity: 64)
                        out.writeString("-ERR [SYS/TEMP] Too many connections\r\n")
                        channel.writeAndFlush(out).whenComplete { _ in channel.close(promise: nil) }
                        return
                    }
                    channel.closeFuture.whenComplete { _ in limiter.release(client) }
                    let sync = channel.pipeline.syncOperations
                    if implicitTLS, let tlsContext { try sync.addHandler(NIOSSLServerHandler(context: tlsContext)) }
                    let configuration = POP3Session.Configuration(
                        hostname: settings.hostname, tlsActive: implicitTLS, tlsAvailable: tlsContext != nil, allowPlaintext: settings.allowPlaintext,
                        mechanisms: settings.mechanisms)
                    try sync.addHandler(
                        POP3ConnectionHandler(
                            session: POP3Session(configuration: configuration), client: client, policy: policy, mailboxes: mailboxes,
                            tlsContext: tlsContext, throttle: throttle, locks: locks, idleTimeout: settings.idleTimeout, logger: logger))
                }
            }
        do {
            return try await bootstrap.bind(host: host, port: port).get()
        } catch let error as IOError {
            throw POP3ListenError(description: "cannot listen on \(host):\(port): \(String(cString: strerror(error.errnoCode)))")
        }
    }
}

public struct POP3ListenError: Error, CustomStringConvertible {
    public var description: String
}
