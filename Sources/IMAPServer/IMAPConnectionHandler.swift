import IMAPProtocol
import Logging
import NIOCore
import NIOSSL
import ProtocolEdge
import Synchronization

/// The NIO side of one IMAP connection: frames commands (`IMAPCommandFramer`), answers
/// synchronizing literals with `+`, hands commands to the session's task in order, writes what
/// the session sends, and starts TLS. Backpressure: at most `maximumQueued` commands wait for
/// the session; beyond that, input stays in `InboundFlow`, whose bound pauses reads.
final class IMAPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One command in hand and one more (IDLE's DONE, a SASL response) may wait.
    static let maximumQueued = 2

    private var framer: IMAPCommandFramer
    private let authenticatedLimits: IMAPCommandFramer.Limits
    private let tlsContext: NIOSSLContext?
    private let logger: Logger
    private let client: String
    private var context: ChannelHandlerContext?
    private var flow = InboundFlow()
    private var queued = 0
    private var closing = false
    /// A STARTTLS was handed to the session: nothing more is framed until it is answered, so
    /// plaintext pipelined behind it can never reach the session (RFC 9051 §6.2.1).
    private var awaitingTLS = false
    let input: AsyncStream<IMAPSessionInput>
    let continuation: AsyncStream<IMAPSessionInput>.Continuation
    /// Writers waiting for the channel to become writable again.
    private var writabilityWaiters: [CheckedContinuation<Void, Never>] = []

    init(client: String, tlsContext: NIOSSLContext?, maximumMessageSize: Int, logger: Logger) {
        // Before login, literals are small (a LOGIN password); after it, up to a message.
        framer = IMAPCommandFramer(limits: IMAPCommandFramer.Limits(maximumLineLength: 65_536, maximumLiteral: 16_384, maximumCommand: 131_072))
        authenticatedLimits = IMAPCommandFramer.Limits(
            maximumLineLength: 65_536, maximumLiteral: maximumMessageSize, maximumCommand: maximumMessageSize + 1_048_576)
        self.client = client
        self.tlsContext = tlsContext
        self.logger = logger
        (input, continuation) = AsyncStream<IMAPSessionInput>.makeStream()
    }

    /// Starts the session once the connection is up.
    var onActive: (() -> Void)?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        onActive?()
        onActive = nil
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        continuation.yield(.closed)
        continuation.finish()
        resumeWriters()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.yield(.closed)
        continuation.finish()
        resumeWriters()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        flow.append(&bytes)
        processInput()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            resumeWriters()
            processInput()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("imap connection error", metadata: ["client": "\(client)", "error": "\(error)"])
        context.close(promise: nil)
    }

    private func resumeWriters() {
        let waiters = writabilityWaiters
        writabilityWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Frames input while the session has room for more commands.
    private func processInput() {
        guard let context, !closing else { return }
        while queued < Self.maximumQueued, !awaitingTLS, flow.input.readableBytes > 0 {
            // Feed up to the end of the next line (or literal data) at a time, so no more is
            // framed than the session may take.
            let view = flow.input.readableBytesView
            let chunk = view.firstIndex(of: 0x0A).map { $0 - view.startIndex + 1 } ?? view.count
            guard let slice = flow.input.readBytes(length: chunk) else { break }
            for event in framer.append(slice) {
                switch event {
                case .command(let bytes):
                    queued += 1
                    continuation.yield(.command(bytes))
                    if IMAPCommandParser.isStartTLS(bytes) { awaitingTLS = true }
                case .continuationNeeded:
                    write(Array("+ Ready for literal data\r\n".utf8), context: context)
                case .lineTooLong(let tag):
                    queued += 1
                    continuation.yield(.lineTooLong(tag: tag))
                case .literalTooLarge(let tag, let mustClose):
                    queued += 1
                    continuation.yield(.literalTooLarge(tag: tag, mustClose: mustClose))
                    if mustClose { closing = true }
                }
            }
        }
        flow.compact()
        flow.updateReading(context.channel)
        if framer.isMidCommand { acknowledgeNow(context.channel) }
    }

    /// A client that sends a literal and then its command's last CRLF in two writes (imaplib
    /// does) would have the CRLF held by Nagle until the literal is acknowledged, and Linux
    /// delays that ACK by up to 40 ms. TCP_QUICKACK sends the pending ACK at once.
    private func acknowledgeNow(_ channel: any Channel) {
        #if os(Linux)
            let quickAck = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: 12))  // TCP_QUICKACK
            channel.setOption(quickAck, value: 1).whenFailure { _ in }
        #endif
    }

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    // Called on the event loop by `ChannelTransport`.

    func send(_ bytes: [UInt8]) -> Bool {
        guard let context else { return true }
        write(bytes, context: context)
        return context.channel.isWritable
    }

    var isWritable: Bool { context?.channel.isWritable ?? true }

    func waitUntilWritable(_ waiter: CheckedContinuation<Void, Never>) {
        guard let context, !context.channel.isWritable else { return waiter.resume() }
        writabilityWaiters.append(waiter)
    }

    func commandFinished() {
        queued = max(0, queued - 1)
        awaitingTLS = false
        processInput()
    }

    func authenticated() {
        framer.limits = authenticatedLimits
    }

    /// STARTTLS: plaintext read after the command is dropped (RFC 9051 §6.2.1, CVE-2011-0411).
    func startTLS(after reply: [UInt8]) -> Bool {
        guard let context, let tlsContext else { return false }
        write(reply, context: context)
        flow.discard()
        framer = IMAPCommandFramer(limits: framer.limits)
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
            return true
        } catch {
            return false
        }
    }

    func close() {
        closing = true
        context?.close(promise: nil)
    }
}

/// Output handed to the event loop and not yet written, and whether the channel last said it
/// was full: lets the session write without waiting for the loop each time.
final class OutputGate: Sendable {
    let pending = Atomic<Int>(0)
    let blocked = Atomic<Bool>(false)
    /// Past this many bytes in flight the session waits for the loop to catch up.
    static let maximumPending = 1 << 20
}

/// The session's view of the connection: every call runs on the channel's event loop. Writes
/// do not wait for it unless output piles up (the peer does not read, or the loop is behind).
struct ChannelTransport: IMAPTransport {
    let handler: NIOLoopBound<IMAPConnectionHandler>
    let eventLoop: any EventLoop
    let gate = OutputGate()

    func send(_ bytes: [UInt8]) async {
        // The session runs on the connection's loop (`EventLoopTaskExecutor`): write at once.
        if eventLoop.inEventLoop {
            let handler = handler.value
            guard !handler.send(bytes) else { return }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in handler.waitUntilWritable(waiter) }
            return
        }
        let gate = self.gate
        let count = bytes.count
        gate.pending.add(count, ordering: .relaxed)
        eventLoop.execute {
            let writable = handler.value.send(bytes)
            gate.blocked.store(!writable, ordering: .relaxed)
            gate.pending.subtract(count, ordering: .relaxed)
        }
        guard gate.blocked.load(ordering: .relaxed) || gate.pending.load(ordering: .relaxed) > OutputGate.maximumPending else { return }
        // Wait for the loop to have written what is queued, then for the peer to read.
        let writable = (try? await eventLoop.submit { handler.value.isWritable }.get()) ?? true
        if !writable {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                eventLoop.execute { handler.value.waitUntilWritable(waiter) }
            }
        }
        gate.blocked.store(false, ordering: .relaxed)
    }

    func startTLS(after reply: [UInt8]) async -> Bool {
        if eventLoop.inEventLoop { return handler.value.startTLS(after: reply) }
        return (try? await eventLoop.submit { handler.value.startTLS(after: reply) }.get()) ?? false
    }

    func close() async {
        if eventLoop.inEventLoop { return handler.value.close() }
        _ = try? await eventLoop.submit { handler.value.close() }.get()
    }

    func commandFinished() {
        if eventLoop.inEventLoop { return handler.value.commandFinished() }
        eventLoop.execute { handler.value.commandFinished() }
    }

    func authenticated() {
        if eventLoop.inEventLoop { return handler.value.authenticated() }
        eventLoop.execute { handler.value.authenticated() }
    }
}
