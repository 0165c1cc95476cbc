import Logging
import MailCore
import NIOCore
import NIOSSL
import SASL
import SMTPProtocol

/// The NIO edge of one SMTP session: feeds bytes to `SMTPServerSession` and performs the actions
/// it returns. All state lives on the channel's event loop.
final class SMTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: SMTPServerSession
    private let policy: any SMTPPolicy
    private var connection: ConnectionInfo
    private var exchange: SASLServerExchange?
    /// The account a password (or API key) check resolved to; the SASL username may be "apikey".
    private var verifiedAccount: String?
    private let hostname: String
    private let tlsContext: NIOSSLContext?
    private let registry: ConnectionRegistry
    private let throttle: AuthFailureThrottle
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var input = ByteBuffer()
    private var output = ByteBuffer()
    private var waiting = false
    private var readPaused = false
    private var ticker: RepeatedTask?
    private var closing = false

    /// Unread input held while waiting for a decision before reads pause (bounded memory).
    static let maximumBufferedInput = 256 * 1024

    init(
        configuration: SMTPServerSessionConfiguration, policy: any SMTPPolicy, connection: ConnectionInfo, tlsContext: NIOSSLContext?,
        registry: ConnectionRegistry, throttle: AuthFailureThrottle, logger: Logger
    ) {
        self.throttle = throttle
        self.session = SMTPServerSession(configuration: configuration, now: .now())
        self.hostname = configuration.hostname
        self.policy = policy
        self.connection = connection
        self.tlsContext = tlsContext
        self.registry = registry
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = context.channel.allocator.buffer(capacity: 512)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        registry.register(self, on: context.eventLoop)
        session.greeting().encode(into: &output)
        flushOutput()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            bound.value.perform(bound.value.session.tick(now: .now()))
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        registry.unregister(self)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if input.readableBytes == 0 {
            input = bytes
        } else {
            input.writeBuffer(&bytes)
        }
        processInput()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS failure or reset peer ends this session only; never the server.
        logger.debug("connection error", metadata: ["client": "\(connection.clientAddress)", "error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Running the session

    private func processInput() {
        guard !waiting, !closing else {
            pauseReadsIfFull()
            return
        }
        perform(session.receive(&input, now: .now()))
        if input.readableBytes == 0 {
            input.clear()
        } else if input.readerIndex > 65536 {
            input.discardReadBytes()
        }
        pauseReadsIfFull()
    }

    private func pauseReadsIfFull() {
        guard let context, !readPaused, input.readableBytes > Self.maximumBufferedInput else { return }
        readPaused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
    }

    private func resumeReads() {
        guard let context, readPaused, input.readableBytes <= Self.maximumBufferedInput else { return }
        readPaused = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    fileprivate func perform(_ actions: [SMTPServerSession.Action]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .send(let reply):
                reply.encode(into: &output)
            case .checkSender(let path, let parameters):
                connection.heloName = session.clientHeloName
                whenDecided(policy.checkSender(path, parameters, connection: connection, on: context.eventLoop)) { handler, reply in
                    handler.session.senderChecked(reply)
                }
            case .checkRecipient(let recipient):
                whenDecided(
                    policy.checkRecipient(recipient, accepted: session.acceptedRecipientCount, connection: connection, on: context.eventLoop)) { handler, reply in
                    handler.session.recipientChecked(reply)
                }
            case .store(let envelope, let content, let trace):
                whenDecided(policy.store(envelope, content: content, trace: trace, connection: connection, on: context.eventLoop)) { handler, result in
                    if case .success(let id) = result {
                        handler.logger.info("queued id=\(id) from=<\(envelope.reversePath)> rcpts=\(envelope.recipients.count)")
                    }
                    return handler.session.stored(result)
                }
            case .authenticate(let mechanism, let initialResponse):
                if throttle.isBlocked(connection.clientAddress) {
                    logger.notice("auth refused: address in cool-down", metadata: ["client": "\(connection.clientAddress)"])
                    perform(session.authFailed(.authenticationFailed))
                    perform(session.close(with: .tooManyAuthenticationFailures))
                    continue
                }
                guard let mechanism = SASLMechanism(rawValue: mechanism) else {
                    perform(session.authFailed(.authenticationFailed))
                    continue
                }
                exchange = SASLServerExchange(mechanism: mechanism, hostname: hostname)
                drive(exchange!.start(initialResponse: initialResponse))
            case .authenticationResponse(let response):
                guard exchange != nil else { continue }
                drive(exchange!.respond(response))
            case .cancelAuthentication:
                exchange = nil
            case .startTLS:
                startTLS(context: context)
            case .close:
                closing = true
                flushOutput()
                context.close(promise: nil)
            }
        }
    }

    /// Performs one step of the SASL exchange (RFC 4954).
    private func drive(_ step: SASLServerExchange.Step) {
        guard let context else { return }
        switch step {
        case .challenge(let challenge):
            perform(session.authChallenge(challenge))
        case .verifyPassword(let username, let password):
            whenDecided(policy.verifyPassword(username: username, password: password, connection: connection, on: context.eventLoop)) {
                handler, account in
                handler.verifiedAccount = account
                handler.drive(handler.exchange?.passwordChecked(account != nil) ?? .failure(.invalidCredentials))
                return []
            }
        case .needSCRAMCredentials(let username):
            whenDecided(policy.scramCredentials(username: username, on: context.eventLoop)) { handler, credentials in
                handler.drive(handler.exchange?.scramCredentials(credentials, decoy: .decoy()) ?? .failure(.invalidCredentials))
                return []
            }
        case .needCRAMSecret(let username):
            whenDecided(policy.cramSecret(username: username, on: context.eventLoop)) { handler, secret in
                handler.verifiedAccount = secret == nil ? nil : username.lowercased()
                handler.drive(handler.exchange?.cramSecret(secret) ?? .failure(.invalidCredentials))
                return []
            }
        case .success(let username):
            exchange = nil
            let identity = verifiedAccount ?? username.lowercased()
            verifiedAccount = nil
            connection.authenticatedAs = identity
            throttle.recordSuccess(connection.clientAddress)
            logger.info("authenticated", metadata: ["client": "\(connection.clientAddress)", "user": "\(identity)"])
            perform(session.authSucceeded(identity))
        case .failure(let error):
            exchange = nil
            let reply: SMTPReply
            switch error {
            case .cancelled: reply = SMTPReply(501, EnhancedStatus(5, 0, 0), "Authentication cancelled")
            case .malformed: reply = .badBase64
            case .invalidCredentials, .authorizationDenied: reply = .authenticationFailed
            }
            guard error == .invalidCredentials || error == .authorizationDenied else {
                perform(session.authFailed(reply))
                return
            }
            let (delay, blocked) = throttle.recordFailure(connection.clientAddress)
            logger.notice(
                "authentication failed",
                metadata: ["client": "\(connection.clientAddress)", "reason": "\(error)", "blocked": "\(blocked)"])
            // Hold the answer (the same for unknown users and wrong passwords), then close if the
            // address has used up its attempts.
            waiting = true
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: delay) {
                let handler = bound.value
                handler.waiting = false
                handler.perform(handler.session.authFailed(reply))
                if blocked { handler.perform(handler.session.close(with: .tooManyAuthenticationFailures)) }
                handler.continueAfterDecision()
            }
        }
    }

    /// Runs a policy future; meanwhile input stays unread. Pending replies are flushed first, so a
    /// pipelining client sees each group's replies as soon as they exist.
    private func whenDecided<T>(
        _ future: EventLoopFuture<T>, then resume: @escaping @Sendable (SMTPConnectionHandler, T) -> [SMTPServerSession.Action]
    ) {
        waiting = true
        let bound = NIOLoopBound(self, eventLoop: future.eventLoop)
        future.whenSuccess { value in
            let handler = bound.value
            handler.waiting = false
            handler.perform(resume(handler, value))
            handler.continueAfterDecision()
        }
    }

    /// After a decision: run any pipelined input that waited, send the replies, read again.
    private func continueAfterDecision() {
        processInput()
        flushOutput()
        resumeReads()
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext else { return }
        flushOutput()
        // RFC 3207 §4.2 / CVE-2011-0411: the session already dropped unread plaintext; any bytes
        // that arrive from now on go through TLS first.
        input.clear()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
            session.tlsEstablished()
        } catch {
            context.close(promise: nil)
        }
    }

    private func flushOutput() {
        guard let context, output.readableBytes > 0 else { return }
        let out = output
        output = context.channel.allocator.buffer(capacity: 512)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    // MARK: - Shutdown

    func beginShutdown() {
        perform(session.beginShutdown())
        flushOutput()
    }

    func forceClose() {
        perform(session.forceClose())
        flushOutput()
    }
}
