import Delivery
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SMTPProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How outbound sessions behave.
public struct SMTPClientSettings: Sendable {
    /// The EHLO name.
    public var heloName: String
    public var connectTimeout: TimeAmount
    /// RFC 5321 §4.5.3.2: 5 minutes for the greeting and for MAIL, RCPT and most replies…
    public var replyTimeout: TimeAmount
    /// …and 10 minutes for the reply after the message content.
    public var dataTimeout: TimeAmount
    public var useStartTLS: Bool
    /// Verify the peer's certificate chain and name (off by default: opportunistic TLS, as
    /// RFC 7435 describes and as Postfix's `smtp_tls_security_level = may` does).
    public var verifyCertificates: Bool

    public init(
        heloName: String, connectTimeout: TimeAmount = .seconds(30), replyTimeout: TimeAmount = .minutes(5),
        dataTimeout: TimeAmount = .minutes(10), useStartTLS: Bool = true, verifyCertificates: Bool = false
    ) {
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.replyTimeout = replyTimeout
        self.dataTimeout = dataTimeout
        self.useStartTLS = useStartTLS
        self.verifyCertificates = verifyCertificates
    }
}

/// Opens SMTP sessions over NIO for the delivery engine: TCP connect, greeting, EHLO, STARTTLS
/// when offered. A TLS handshake that fails is retried once in plaintext, as opportunistic TLS
/// allows (RFC 7435 §4).
public final class SMTPConnector: OutboundConnector {
    let group: any EventLoopGroup
    let settings: SMTPClientSettings
    let tlsContext: NIOSSLContext?

    public init(group: any EventLoopGroup, settings: SMTPClientSettings) throws {
        self.group = group
        self.settings = settings
        if settings.useStartTLS {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if !settings.verifyCertificates { configuration.certificateVerification = .none }
            tlsContext = try NIOSSLContext(configuration: configuration)
        } else {
            tlsContext = nil
        }
    }

    public func connect(host: String, address: String, port: Int) async -> Result<any OutboundConnection, ConnectFailure> {
        let first = await open(host: host, address: address, port: port, tls: tlsContext)
        // With verification on, a failed handshake (a bad certificate) must not turn into
        // plaintext: that would let anyone on the path strip TLS.
        if case .failure(let failure) = first, failure.tlsFailed, !settings.verifyCertificates {
            return await open(host: host, address: address, port: port, tls: nil).mapError(\.failure)
        }
        return first.mapError(\.failure)
    }

    private struct OpenFailure: Error {
        var failure: ConnectFailure
        var tlsFailed: Bool
    }

    private func open(host: String, address: String, port: Int, tls: NIOSSLContext?) async -> Result<any OutboundConnection, OpenFailure> {
        let details = ConnectionDetails(host: host, address: address, tlsVersion: nil)
        let settings = self.settings
        let serverName = IPAddressText.isLiteral(host) || host.hasPrefix("[") ? nil : host
        let channel: any Channel
        do {
            // The router resolved the host already: connect to the address itself, with no
            // getaddrinfo on a blocking thread for every new session.
            let target = try SocketAddress(ipAddress: address, port: port)
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(settings.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SMTPClientHandler(settings: settings, tlsContext: tls, serverName: serverName)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(to: target).get()
        } catch {
            let reply = SMTPReply(451, EnhancedStatus(4, 4, 1), "Connection to \(details.peerName):\(port) failed: \(Self.describe(error))")
            return .failure(OpenFailure(failure: ConnectFailure(reply: reply, fromRemote: false), tlsFailed: false))
        }
        do {
            let ready = try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<String?> in
                guard let handler = try? channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self), let ready = handler.ready
                else { return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
                return ready
            }.get()
            return .success(SMTPClientConnection(channel: channel, details: ConnectionDetails(host: host, address: address, tlsVersion: ready)))
        } catch let failure as SMTPClientHandler.SessionFailure {
            channel.close(promise: nil)
            let reply = failure.reply
            return .failure(
                OpenFailure(
                    failure: ConnectFailure(
                        reply: failure.fromRemote ? reply : SMTPReply(reply.code, reply.enhanced, "\(details.peerName): \(reply.lines.joined(separator: " "))"),
                        fromRemote: failure.fromRemote),
                    tlsFailed: failure.tlsFailed))
        } catch {
            channel.close(promise: nil)
            let reply = SMTPReply(451, EnhancedStatus(4, 4, 2), "Session with \(details.peerName) failed: \(Self.describe(error))")
            return .failure(OpenFailure(failure: ConnectFailure(reply: reply, fromRemote: false), tlsFailed: false))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return describe(first.error)
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if error is ChannelError, case ChannelError.connectTimeout = error { return "connection timed out" }
        return "\(error)"
    }
}

/// One open session; transactions go through the event loop that owns the channel.
final class SMTPClientConnection: OutboundConnection {
    let channel: any Channel
    let details: ConnectionDetails

    init(channel: any Channel, details: ConnectionDetails) {
        self.channel = channel
        self.details = details
    }

    var isOpen: Bool { channel.isActive }

    func send(_ messages: [OutboundMessage]) async -> [[RecipientResult]] {
        let channel = self.channel
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<[[RecipientResult]]> in
            guard let handler = try? channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self) else {
                return channel.eventLoop.makeSucceededFuture(messages.map(Self.lost))
            }
            return handler.begin(messages)
        }
        return (try? await future.get()) ?? messages.map(Self.lost)
    }

    static func lost(_ message: OutboundMessage) -> [RecipientResult] {
        let reply = SMTPReply(451, EnhancedStatus(4, 4, 2), "Connection lost before the transaction")
        return message.recipients.map { _ in RecipientResult(reply: reply, fromRemote: false) }
    }

    func abort() {
        let channel = self.channel
        channel.eventLoop.execute {
            guard let handler = try? channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self) else {
                channel.close(promise: nil)
                return
            }
            handler.abort(reason: "Delivery stopped: the server is shutting down")
        }
    }

    func close() async {
        let channel = self.channel
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            guard let handler = try? channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self) else {
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            return handler.quit()
        }
        try? await future.get()
    }
}

/// The NIO driver of `SMTPClientSession`: parses replies, performs the session's actions,
/// starts TLS, and enforces the reply timeouts.
final class SMTPClientHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct SessionFailure: Error {
        var reply: SMTPReply
        var fromRemote: Bool
        var tlsFailed: Bool
    }

    private var session: SMTPClientSession
    private var parser = SMTPReplyParser()
    private var pending: ByteBuffer?
    private let settings: SMTPClientSettings
    private let tlsContext: NIOSSLContext?
    private let serverName: String?
    private var context: ChannelHandlerContext?
    private var readyPromise: EventLoopPromise<String?>?
    /// The batch in progress: messages still to send, results so far, and who waits for them.
    private var batchPromise: EventLoopPromise<[[RecipientResult]]>?
    private var batchWaiting: [OutboundMessage] = []
    private var batchResults: [[RecipientResult]] = []
    private var quitPromise: EventLoopPromise<Void>?
    private var timeout: Scheduled<Void>?
    private var closeReason: String?
    private var tlsVersion: String?
    private var tlsFailed = false

    init(settings: SMTPClientSettings, tlsContext: NIOSSLContext?, serverName: String?) {
        self.settings = settings
        self.tlsContext = tlsContext
        self.serverName = serverName
        session = SMTPClientSession(
            // With certificates verified, a missing or refused STARTTLS must not become plaintext
            // either: that is the easiest downgrade of all (strip the STARTTLS line).
            settings: .init(heloName: settings.heloName, useStartTLS: tlsContext != nil, requireTLS: settings.verifyCertificates && settings.useStartTLS))
    }

    /// Completes with the TLS version (nil for plaintext) once the session is ready; kept after
    /// the promise is resolved, since the caller may ask after the session got there.
    private(set) var ready: EventLoopFuture<String?>?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let promise = context.eventLoop.makePromise(of: String?.self)
        readyPromise = promise
        ready = promise.futureResult
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(settings.replyTimeout)
        context.fireChannelActive()
    }

    func begin(_ messages: [OutboundMessage]) -> EventLoopFuture<[[RecipientResult]]> {
        guard let context else { return ready!.eventLoop.makeSucceededFuture(messages.map(SMTPClientConnection.lost)) }
        guard session.phase == .ready, batchPromise == nil, !messages.isEmpty else {
            return context.eventLoop.makeSucceededFuture(messages.map(SMTPClientConnection.lost))
        }
        let promise = context.eventLoop.makePromise(of: [[RecipientResult]].self)
        batchPromise = promise
        batchWaiting = messages
        batchResults = []
        // The session runs the whole batch and reports one `.finished` per message, in order.
        perform(session.begin(messages))
        return promise.futureResult
    }

    /// Completes the batch once every message has its results; `abandon` fills in what a
    /// closed connection never reported.
    private func completeBatchIfDone(abandon: Bool = false) {
        guard let promise = batchPromise else { return }
        if abandon && batchResults.count < batchWaiting.count {
            batchResults += batchWaiting[batchResults.count...].map(SMTPClientConnection.lost)
        }
        guard batchResults.count >= batchWaiting.count else { return }
        batchPromise = nil
        let results = batchResults
        batchResults = []
        batchWaiting = []
        promise.succeed(results)
    }

    func quit() -> EventLoopFuture<Void> {
        guard let context else { return ready!.eventLoop.makeSucceededVoidFuture() }
        guard context.channel.isActive else { return context.eventLoop.makeSucceededVoidFuture() }
        let promise = context.eventLoop.makePromise(of: Void.self)
        quitPromise = promise
        let actions = session.quit()
        if actions.isEmpty {
            context.close(promise: nil)
        } else {
            perform(actions)
            arm(.seconds(5))
        }
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        while var buffer = pending {
            let reply: SMTPReply?
            do {
                reply = try parser.next(from: &buffer)
            } catch {
                pending = nil
                closeReason = "The remote server sent a malformed reply"
                perform(session.connectionClosed(reason: closeReason!))
                context.close(promise: nil)
                return
            }
            pending = buffer.readableBytes > 0 ? buffer : nil
            guard let reply else { break }
            if session.phase == .quitting || session.phase == .closed {
                _ = session.receive(reply)
                context.close(promise: nil)
                return
            }
            perform(session.receive(reply))
            if session.phase == .handshake {
                // RFC 3207 §5 / CVE-2011-0411 class: bytes after the 220 to STARTTLS arrived
                // in plaintext and must not be read as replies inside TLS.
                pending = nil
                break
            }
        }
    }

    private func perform(_ actions: [SMTPClientSession.Action]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .send(let bytes):
                context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
                arm(session.phase == .transaction ? settings.dataTimeout : settings.replyTimeout)
            case .startTLS:
                guard let tlsContext else {
                    context.close(promise: nil)
                    return
                }
                do {
                    let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                    try context.pipeline.syncOperations.addHandler(handler, position: .first)
                } catch {
                    tlsFailed = true
                    closeReason = "TLS could not start: \(error)"
                    context.close(promise: nil)
                }
            case .ready:
                timeout?.cancel()
                timeout = nil
                readyPromise?.succeed(tlsVersion)
                readyPromise = nil
            case .finished(let results):
                batchResults.append(results)
                completeBatchIfDone()
                if batchPromise == nil {
                    timeout?.cancel()
                    timeout = nil
                }
            case .failed(let reply):
                readyPromise?.fail(SessionFailure(reply: reply, fromRemote: true, tlsFailed: false))
                readyPromise = nil
                context.close(promise: nil)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            if let ssl = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self), let version = ssl.tlsVersion {
                tlsVersion = Self.name(version)
            }
            perform(session.tlsEstablished())
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Closes without QUIT; `reason` is what the unfinished transaction's deferral says.
    func abort(reason: String) {
        closeReason = closeReason ?? reason
        context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if session.phase == .handshake {
            tlsFailed = true
            closeReason = "TLS handshake failed: \(error)"
        } else if closeReason == nil {
            closeReason = "Connection error: \(error)"
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        let reason = closeReason ?? "Connection closed by the remote server"
        perform(session.connectionClosed(reason: reason))
        completeBatchIfDone(abandon: true)
        readyPromise?.fail(
            SessionFailure(reply: SMTPReply(451, EnhancedStatus(4, 4, 2), reason), fromRemote: false, tlsFailed: tlsFailed))
        readyPromise = nil
        quitPromise?.succeed(())
        quitPromise = nil
        context.fireChannelInactive()
    }

    private func arm(_ amount: TimeAmount) {
        guard let context else { return }
        timeout?.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: amount) {
            let handler = loopBound.value
            handler.closeReason = handler.closeReason ?? "Timed out waiting for the remote server"
            handler.context?.close(promise: nil)
        }
    }

    static func name(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: "TLSv1"
        case .tlsv11: "TLSv1.1"
        case .tlsv12: "TLSv1.2"
        case .tlsv13: "TLSv1.3"
        @unknown default: "TLS"
        }
    }
}
