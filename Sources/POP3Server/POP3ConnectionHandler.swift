import Logging
import MailStore
import NIOCore
import NIOSSL
import POP3Protocol
import SASL
import SMTPServer

/// The NIO driver of `POP3Session`: frames lines, runs TLS, checks credentials, holds the
/// maildrop lock, and reads and expunges through the mailbox store.
final class POP3ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: POP3Session
    private let client: String
    private let policy: any SMTPPolicy
    private let mailboxes: any MailboxRepository
    private let tlsContext: NIOSSLContext?
    private let throttle: AuthFailureThrottle
    private let locks: MaildropLocks
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var input = ByteBuffer()
    private var waiting = false
    private var closing = false
    private var exchange: SASLServerExchange?
    private var verifiedAccount: String?
    /// The locked maildrop: its owner and INBOX.
    private var lockedUser: String?
    private var mailboxID: Int?
    private var idleTimer: Scheduled<Void>?

    /// A line longer than this (a SASL response can be long) ends the session.
    static let maximumLine = 16384

    init(
        session: POP3Session, client: String, policy: any SMTPPolicy, mailboxes: any MailboxRepository, tlsContext: NIOSSLContext?,
        throttle: AuthFailureThrottle, locks: MaildropLocks, idleTimeout: TimeAmount, logger: Logger
    ) {
        self.session = session
        self.client = client
        self.policy = policy
        self.mailboxes = mailboxes
        self.tlsContext = tlsContext
        self.throttle = throttle
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
        input.writeBuffer(&bytes)
        armIdleTimer()
        processInput()
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

    private func processInput() {
        while !waiting && !closing {
            guard let newline = input.readableBytesView.firstIndex(of: 0x0A) else {
                if input.readableBytes > Self.maximumLine {
                    send(Array("-ERR Line too long\r\n".utf8))
                    close()
                }
                return
            }
            let length = newline - input.readerIndex
            var line = input.readBytes(length: length) ?? []
            input.moveReaderIndex(forwardBy: 1)
            if line.last == 0x0D { line.removeLast() }
            perform(session.receive(line: line))
        }
        if input.readableBytes == 0 { input.clear() }
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
                input.clear()
                do {
                    try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
                } catch {
                    close()
                }
            case .checkPassword(let user, let password):
                guard !throttle.isBlocked(client) else { return refuseBlocked() }
                decide(policy.verifyPassword(username: user, password: password, connection: connectionInfo, on: context.eventLoop)) {
                    handler, account in handler.finishAuthentication(account)
                }
            case .saslStart(let mechanism, let initial):
                guard !throttle.isBlocked(client) else { return refuseBlocked() }
                guard let parsed = SASLMechanism(rawValue: mechanism) else {
                    perform(session.authenticationFinished(user: nil))
                    return
                }
                exchange = SASLServerExchange(mechanism: parsed, hostname: session.configuration.hostname)
                drive(exchange!.start(initialResponse: initial))
            case .saslResponse(let data):
                drive(exchange?.respond(data) ?? .failure(.malformed))
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

    private var connectionInfo: ConnectionInfo {
        ConnectionInfo(clientAddress: client, listener: .submissions, clientIsTrusted: false)
    }

    private func refuseBlocked() {
        send(Array("-ERR [AUTH] Too many failed logins from your address; try again later\r\n".utf8))
        close()
    }

    /// The SASL exchange (RFC 5034), with the same credential checks as SMTP AUTH.
    private func drive(_ step: SASLServerExchange.Step) {
        guard let context else { return }
        switch step {
        case .challenge(let challenge):
            perform(session.saslChallenge(challenge))
        case .verifyPassword(let username, let password):
            decide(policy.verifyPassword(username: username, password: password, connection: connectionInfo, on: context.eventLoop)) { handler, account in
                handler.verifiedAccount = account
                handler.drive(handler.exchange?.passwordChecked(account != nil) ?? .failure(.invalidCredentials))
            }
        case .needSCRAMCredentials(let username):
            decide(policy.scramCredentials(username: username, on: context.eventLoop)) { handler, credentials in
                handler.drive(handler.exchange?.scramCredentials(credentials, decoy: .decoy()) ?? .failure(.invalidCredentials))
            }
        case .needCRAMSecret(let username):
            decide(policy.cramSecret(username: username, on: context.eventLoop)) { handler, secret in
                handler.verifiedAccount = secret == nil ? nil : username.lowercased()
                handler.drive(handler.exchange?.cramSecret(secret) ?? .failure(.invalidCredentials))
            }
        case .success(let username):
            exchange = nil
            let account = verifiedAccount ?? username.lowercased()
            verifiedAccount = nil
            finishAuthentication(account)
        case .failure:
            exchange = nil
            verifiedAccount = nil
            finishAuthentication(nil)
        }
    }

    private func finishAuthentication(_ account: String?) {
        guard let context else { return }
        guard let account else {
            let (delay, blocked) = throttle.recordFailure(client)
            logger.notice("pop3 authentication failed", metadata: ["client": "\(client)", "blocked": "\(blocked)"])
            waiting = true
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: delay) {
                let handler = bound.value
                handler.waiting = false
                handler.perform(handler.session.authenticationFinished(user: nil))
                if blocked { handler.refuseBlocked() } else { handler.processInput() }
            }
            return
        }
        throttle.recordSuccess(client)
        logger.info("pop3 login", metadata: ["client": "\(client)", "user": "\(account)"])
        perform(session.authenticationFinished(user: account))
    }

    private func openMaildrop(_ user: String) {
        guard let context else { return }
        guard locks.acquire(user) else {
            perform(session.maildropOpened(nil))
            return
        }
        lockedUser = user
        let mailboxes = self.mailboxes
        decide(
            task(on: context.eventLoop) { () -> (Int, [POP3Session.Entry])? in
                guard let inbox = try? await mailboxes.mailbox(user: user, name: "INBOX"),
                    let messages = try? await mailboxes.messages(mailboxID: inbox.id)
                else { return nil }
                return (inbox.id, messages.map { POP3Session.Entry(uid: $0.uid, size: $0.size, uniqueID: "\(inbox.uidValidity)-\($0.uid)") })
            }
        ) { handler, found in
            guard let (id, entries) = found else {
                handler.releaseLock()
                handler.send(Array("-ERR [SYS/TEMP] Maildrop could not be opened\r\n".utf8))
                handler.close()
                return
            }
            handler.mailboxID = id
            handler.perform(handler.session.maildropOpened(entries))
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
