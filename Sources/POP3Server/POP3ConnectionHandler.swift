import Logging
import MailService
import MailStore
import NIOCore
import NIOSSL
import POP3Protocol
import ProtocolEdge
import SASL

/// The NIO driver of `POP3Session`: frames lines, runs TLS, checks credentials, holds the
/// maildrop lock, and reads and expunges through the mailbox store.
final class POP3ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: POP3Session
    private let client: String
    private let authenticator: AccountAuthenticator
    private let mailboxes: any MailboxRepository
    private let tlsContext: NIOSSLContext?
    private let limits: AbuseLimits
    private let locks: any MaildropLocking
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var flow = InboundFlow()
    private var waiting = false
    private var closing = false
    /// The login under way (USER/PASS or AUTH); a new value for each attempt.
    private var exchange: AuthenticationExchange?
    /// The locked maildrop: its owner and INBOX.
    private var lockedUser: String?
    private var mailboxID: Int?
    private var idleTimer: Scheduled<Void>?

    /// A line longer than this (a SASL response can be long) ends the session.
    static let maximumLine = 16384

    init(
        session: POP3Session, client: String, authenticator: AccountAuthenticator, mailboxes: any MailboxRepository, tlsContext: NIOSSLContext?,
        limits: AbuseLimits, locks: any MaildropLocking, idleTimeout: TimeAmount, logger: Logger
    ) {
        self.session = session
        self.client = client
        self.authenticator = authenticator
        self.mailboxes = mailboxes
        self.tlsContext = tlsContext
        self.limits = limits
        self.locks = locks
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        releaseLock()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(session.greeting())
        armIdleTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A dropped connection deletes nothing (RFC 1939 §6: only QUIT enters UPDATE).
        idleTimer?.cancel()
        releaseLock()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        flow.append(&bytes)
        armIdleTimer()
        processInput()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { processInput() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("pop3 connection error", metadata: ["client": "\(client)", "error": "\(error)"])
        context.close(promise: nil)
    }

    private func armIdleTimer() {
        guard let context else { return }
        idleTimer?.cancel()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: idleTimeout) {
            let handler = bound.value
            handler.send(Array("-ERR Autologout; idle for too long\r\n".utf8))
            handler.context?.close(promise: nil)
        }
    }

    /// Answers pipelined commands in order while no decision is pending and the peer reads its
    /// replies; otherwise input waits and reads pause at `InboundFlow`'s bound.
    private func processInput() {
        guard let context else { return }
        while !waiting && !closing && context.channel.isWritable {
            guard let newline = flow.input.readableBytesView.firstIndex(of: 0x0A) else {
                if flow.input.readableBytes > Self.maximumLine {
                    send(Array("-ERR Line too long\r\n".utf8))
                    close()
                }
                break
            }
            let length = newline - flow.input.readerIndex
            var line = flow.input.readBytes(length: length) ?? []
            flow.input.moveReaderIndex(forwardBy: 1)
            if line.last == 0x0D { line.removeLast() }
            perform(session.receive(line: line))
        }
        flow.compact()
        if self.context != nil { flow.updateReading(context.channel) }
    }

    private func send(_ bytes: [UInt8]) {
        guard let context else { return }
        var out = context.channel.allocator.buffer(capacity: bytes.count)
        out.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    private func close() {
        closing = true
        context?.close(promise: nil)
    }

    private func releaseLock() {
        if let user = lockedUser { locks.release(user) }
        lockedUser = nil
    }

    private func perform(_ actions: [POP3Session.Action]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .send(let bytes):
                send(bytes)
            case .startTLS:
                guard let tlsContext else {
                    close()
                    return
                }
                // RFC 2595 §4 / CVE-2011-0411: plaintext that came with or after STLS is dropped.
                flow.discard()
                do {
                    try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
                } catch {
                    close()
                }
            case .checkPassword(let user, let password):
                guard !limits.loginBlocked(from: client) else { return refuseBlocked() }
                let (login, step) = AuthenticationExchange.password(username: user, password: password)
                exchange = login
                drive(step)
            case .saslStart(let mechanism, let initial):
                guard !limits.loginBlocked(from: client) else { return refuseBlocked() }
                guard let parsed = SASLMechanism(rawValue: mechanism) else {
                    perform(session.authenticationFinished(user: nil))
                    return
                }
                var login = AuthenticationExchange(mechanism: parsed, hostname: session.configuration.hostname)
                let step = login.start(initialResponse: initial)
                exchange = login
                drive(step)
            case .saslResponse(let data):
                guard var login = exchange else {
                    drive(.failed(.malformed))
                    return
                }
                let step = login.respond(data)
                exchange = login
                drive(step)
            case .authenticationAbandoned:
                exchange = nil
                let penalty = limits.loginFailed(from: client, protocol: "pop3")
                logger.notice("pop3 authentication abandoned", metadata: ["client": "\(client)", "blocked": "\(penalty.blocked)"])
            case .openMaildrop(let user):
                openMaildrop(user)
            case .retrieve(let uid):
                guard let mailboxID else {
                    perform(session.retrieved(nil))
                    return
                }
                let mailboxes = self.mailboxes
                decide(task(on: context.eventLoop) { try? await mailboxes.content(mailboxID: mailboxID, uid: uid) }) { handler, content in
                    handler.perform(handler.session.retrieved(content))
                }
            case .update(let uids):
                guard let mailboxID else {
                    perform(session.updateFinished(true))
                    return
                }
                let mailboxes = self.mailboxes
                decide(task(on: context.eventLoop) { (try? await mailboxes.expunge(mailboxID: mailboxID, uids: uids)) == uids.count }) {
                    handler, ok in
                    handler.releaseLock()
                    handler.perform(handler.session.updateFinished(ok))
                }
            case .release:
                releaseLock()
            case .close:
                close()
                return
            }
        }
    }

    private func refuseBlocked() {
        send(Array("-ERR [AUTH] Too many failed logins from your address; try again later\r\n".utf8))
        close()
    }

    /// The login (RFC 1939 USER/PASS or RFC 5034 AUTH), with the same credential checks as SMTP AUTH.
    private func drive(_ step: AuthenticationExchange.Step) {
        guard let context else { return }
        switch step {
        case .challenge(let challenge):
            perform(session.saslChallenge(challenge))
        case .lookUp(let lookup):
            decide(authenticator.answer(lookup, on: context.eventLoop)) { handler, answer in
                guard var login = handler.exchange else { return }
                let next = login.answer(answer)
                handler.exchange = login
                handler.drive(next)
            }
        case .authenticated(let account):
            exchange = nil
            finishAuthentication(account)
        case .failed:
            exchange = nil
            finishAuthentication(nil)
        }
    }

    private func finishAuthentication(_ account: String?) {
        guard let context else { return }
        guard let account else {
            let penalty = limits.loginFailed(from: client, protocol: "pop3")
            logger.notice("pop3 authentication failed", metadata: ["client": "\(client)", "blocked": "\(penalty.blocked)"])
            waiting = true
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: TimeAmount(penalty.delay)) {
                let handler = bound.value
                handler.waiting = false
                handler.perform(handler.session.authenticationFinished(user: nil))
                if penalty.blocked { handler.refuseBlocked() } else { handler.processInput() }
            }
            return
        }
        limits.loginSucceeded(from: client)
        logger.info("pop3 login", metadata: ["client": "\(client)", "user": "\(account)"])
        perform(session.authenticationFinished(user: account))
    }

    private func openMaildrop(_ user: String) {
        guard let context else { return }
        let mailboxes = self.mailboxes
        let locks = self.locks
        enum Opened: Sendable {
            case locked
            case failed
            case opened(Int, [POP3Session.Entry])
        }
        decide(
            task(on: context.eventLoop) { () -> Opened in
                // The lock may live in a shared database: taken off the event loop.
                guard await locks.acquire(user) else { return .locked }
                guard let inbox = try? await mailboxes.mailbox(user: user, name: "INBOX"),
                    let messages = try? await mailboxes.messages(mailboxID: inbox.id)
                else {
                    locks.release(user)
                    return .failed
                }
                return .opened(inbox.id, messages.map { POP3Session.Entry(uid: $0.uid, size: $0.size, uniqueID: "\(inbox.uidValidity)-\($0.uid)") })
            }
        ) { handler, opened in
            switch opened {
            case .locked:
                handler.perform(handler.session.maildropOpened(nil))
            case .failed:
                handler.send(Array("-ERR [SYS/TEMP] Maildrop could not be opened\r\n".utf8))
                handler.close()
            case .opened(let id, let entries):
                handler.lockedUser = user
                // The connection ended while the lock was being taken: hand it back now.
                guard handler.context?.channel.isActive == true, !handler.closing else {
                    handler.releaseLock()
                    return
                }
                handler.mailboxID = id
                handler.perform(handler.session.maildropOpened(entries))
            }
        }
    }

    private func task<T: Sendable>(on eventLoop: any EventLoop, _ body: @escaping @Sendable () async -> T) -> EventLoopFuture<T> {
        let promise = eventLoop.makePromise(of: T.self)
        promise.completeWithTask { await body() }
        return promise.futureResult
    }

    /// Runs a future; meanwhile input waits (pipelined commands are answered in order).
    private func decide<T>(_ future: EventLoopFuture<T>, then resume: @escaping @Sendable (POP3ConnectionHandler, T) -> Void) {
        waiting = true
        let bound = NIOLoopBound(self, eventLoop: future.eventLoop)
        future.whenSuccess { value in
            let handler = bound.value
            handler.waiting = false
            resume(handler, value)
            handler.processInput()
        }
    }
}
