import Logging
import MailCore
import MailService
import NIOCore
import NIOSSL
import ProtocolEdge
import SASL
import SMTPProtocol

/// The NIO edge of one SMTP session: feeds bytes to `SMTPServerSession` and performs the actions
/// it returns. All state lives on the channel's event loop.
final class SMTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: SMTPServerSession
    private let policy: any SMTPPolicy
    private let authenticator: AccountAuthenticator
    private var connection: ConnectionInfo
    /// The login under way; a new value for every AUTH, so nothing it looked up outlives it.
    private var exchange: AuthenticationExchange?
    private let hostname: String
    private let tlsContext: NIOSSLContext?
    private let registry: ConnectionRegistry
    private let limits: AbuseLimits
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var flow = InboundFlow()
    private var output = ByteBuffer()
    private var waiting = false
    private var ticker: RepeatedTask?
    private var closing = false

    init(
        configuration: SMTPServerSessionConfiguration, policy: any SMTPPolicy, authenticator: AccountAuthenticator, connection: ConnectionInfo,
        tlsContext: NIOSSLContext?, registry: ConnectionRegistry, limits: AbuseLimits, logger: Logger
    ) {
        self.limits = limits
        self.session = SMTPServerSession(configuration: configuration, now: .now())
        self.hostname = configuration.hostname
        self.policy = policy
        self.authenticator = authenticator
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
        policy.connectionClosed(connection)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        flow.append(&bytes)
        processInput()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The peer read some of its replies: go on with what it pipelined.
        if context.channel.isWritable { continueAfterDecision() }
        context.fireChannelWritabilityChanged()
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

    /// Feeds unread input to the session, unless a decision is pending or the peer is not
    /// reading its replies (then input waits, and reads pause at `InboundFlow`'s bound).
    private func processInput() {
        guard let context else { return }
        if !waiting, !closing, context.channel.isWritable {
            perform(session.receive(&flow.input, now: .now()))
            flow.compact()
        }
        flow.updateReading(context.channel)
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
                if limits.loginBlocked(from: connection.clientAddress) {
                    logger.notice("auth refused: address in cool-down", metadata: ["client": "\(connection.clientAddress)"])
                    perform(session.authFailed(.authenticationFailed))
                    perform(session.close(with: .tooManyAuthenticationFailures))
                    continue
                }
                guard let mechanism = SASLMechanism(rawValue: mechanism) else {
                    perform(session.authFailed(.authenticationFailed))
                    continue
                }
                var login = AuthenticationExchange(mechanism: mechanism, hostname: hostname)
                let step = login.start(initialResponse: initialResponse)
                exchange = login
                drive(step)
            case .authenticationResponse(let response):
                guard var login = exchange else { continue }
                let step = login.respond(response)
                exchange = login
                drive(step)
            case .cancelAuthentication:
                // A cancelled exchange (or bad base64) counts as a failed login, or cancelling
                // after the server's first SCRAM message would probe user names for free. The
                // session has answered 501; a client that is now blocked is refused at its next AUTH.
                exchange = nil
                let penalty = limits.loginFailed(from: connection.clientAddress, protocol: "smtp")
                logger.notice(
                    "authentication abandoned", metadata: ["client": "\(connection.clientAddress)", "blocked": "\(penalty.blocked)"])
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
    private func drive(_ step: AuthenticationExchange.Step) {
        guard let context else { return }
        switch step {
        case .challenge(let challenge):
            perform(session.authChallenge(challenge))
        case .lookUp(let lookup):
            whenDecided(authenticator.answer(lookup, on: context.eventLoop)) { handler, answer in
                guard var login = handler.exchange else { return [] }
                let next = login.answer(answer)
                handler.exchange = login
                handler.drive(next)
                return []
            }
        case .authenticated(let account):
            exchange = nil
            connection.authenticatedAs = account
            limits.loginSucceeded(from: connection.clientAddress)
            logger.info("authenticated", metadata: ["client": "\(connection.clientAddress)", "user": "\(account)"])
            perform(session.authSucceeded(account))
        case .failed(let error):
            exchange = nil
            let reply: SMTPReply
            switch error {
            case .cancelled: reply = SMTPReply(501, EnhancedStatus(5, 0, 0), "Authentication cancelled")
            case .malformed: reply = .badBase64
            case .invalidCredentials, .authorizationDenied: reply = .authenticationFailed
            }
            // Every failure counts, malformed and cancelled ones too.
            let penalty = limits.loginFailed(from: connection.clientAddress, protocol: "smtp")
            logger.notice(
                "authentication failed",
                metadata: ["client": "\(connection.clientAddress)", "reason": "\(error)", "blocked": "\(penalty.blocked)"])
            // Hold the answer (the same for unknown users and wrong passwords), then close if the
            // address has used up its attempts.
            waiting = true
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: TimeAmount(penalty.delay)) {
                let handler = bound.value
                handler.waiting = false
                handler.perform(handler.session.authFailed(reply))
                if penalty.blocked { handler.perform(handler.session.close(with: .tooManyAuthenticationFailures)) }
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
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext else { return }
        flushOutput()
        // RFC 3207 §4.2 / CVE-2011-0411: the session already dropped unread plaintext; any bytes
        // that arrive from now on go through TLS first.
        flow.discard()
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
