import MailCore
import NIOCore

/// The server side of one SMTP session as a pure state machine (RFC 5321 §4.1.4 ordering).
///
/// It owns no socket and does no I/O. Input bytes go in through `receive(_:now:)`; out come
/// `Action`s for the connection to perform. Work that needs the store (recipient checks, durable
/// writes) is requested with an action and its answer comes back through a method, while the
/// session keeps any pipelined input (RFC 2920) unread until then.
public struct SMTPServerSession: Sendable {
    /// What the connection must do.
    public enum Action: Equatable, Sendable {
        case send(SMTPReply)
        /// Decide whether this sender may start a transaction (storage, later quotas). Answer with
        /// `senderChecked(_:)`.
        case checkSender(ReversePath, MailParameters)
        /// Decide whether this recipient is accepted. Answer with `recipientChecked(_:)`.
        case checkRecipient(EnvelopeRecipient)
        /// Write the message durably; answer with `stored(_:)`. Only then is 250 sent.
        case store(Envelope, ByteBuffer, TransactionTrace)
        /// Start a SASL exchange (RFC 4954): answer with `authChallenge`, `authSucceeded` or
        /// `authFailed`. The initial response is decoded; nil when none was given.
        case authenticate(mechanism: String, initialResponse: [UInt8]?)
        /// The client's next SASL response, decoded from base64.
        case authenticationResponse([UInt8])
        /// The client cancelled with `*`, or sent bad base64: drop the exchange.
        case cancelAuthentication
        /// Start the TLS handshake now; unread input was discarded (RFC 3207 §4.2, CVE-2011-0411).
        case startTLS
        /// Close the connection after the pending replies are flushed.
        case close
    }

    enum Phase: Sendable {
        case command
        case awaitingSender(ReversePath, MailParameters)
        case awaitingRecipient(EnvelopeRecipient)
        case data(DataBodyReader)
        /// Reading a BDAT chunk of `remaining` octets; `refusal` answers it when complete.
        case chunk(remaining: Int, last: Bool, refusal: SMTPReply?)
        case awaitingStore
        /// A SASL exchange waits for its next decision.
        case awaitingAuthentication
        /// A 334 challenge was sent; the next line is the client's response.
        case authenticationResponse
        case closed
    }

    public let configuration: SMTPServerSessionConfiguration
    private(set) var phase: Phase = .command
    private var framer = SMTPLineFramer()
    private var heloName: String?
    /// The name the client gave in EHLO or HELO, once it has.
    public var clientHeloName: String? { heloName }
    private var extended = false
    public private(set) var tlsActive: Bool
    private var transaction: Envelope?
    private var chunks: ChunkedBodyReader?
    public private(set) var authenticatedAs: String?
    /// Recipients accepted so far in the current transaction.
    public var acceptedRecipientCount: Int { transaction?.recipients.count ?? 0 }
    private var errorCount = 0
    /// MAIL commands that have not (yet) ended in a stored message: the churn a MAIL/RSET
    /// flood makes, which a busy client sending thousands of messages on one connection does not.
    private var abandonedTransactions = 0
    private var draining = false
    private let startedAt: NIODeadline
    private var lastActivity: NIODeadline

    public init(configuration: SMTPServerSessionConfiguration, now: NIODeadline) {
        self.configuration = configuration
        self.tlsActive = configuration.implicitTLS
        self.startedAt = now
        self.lastActivity = now
    }

    /// The greeting (RFC 5321 §4.2, 220 with the host name first). No enhanced code before EHLO.
    public func greeting() -> SMTPReply {
        SMTPReply(220, nil, "\(configuration.hostname) ESMTP Tern")
    }

    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// Whether the session is in the middle of a mail transaction (for graceful shutdown).
    public var inTransaction: Bool { transaction != nil || chunks != nil }

    // MARK: - Input

    /// Consumes input until the buffer is empty or the session waits for an answer.
    public mutating func receive(_ buffer: inout ByteBuffer, now: NIODeadline) -> [Action] {
        var actions: [Action] = []
        if buffer.readableBytes > 0 { lastActivity = now }
        loop: while buffer.readableBytes > 0 {
            switch phase {
            case .closed:
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                break loop
            case .awaitingSender, .awaitingRecipient, .awaitingStore, .awaitingAuthentication:
                break loop
            case .authenticationResponse:
                guard let frame = framer.next(from: &buffer) else { break loop }
                actions += authenticationLine(frame)
            case .data(var reader):
                phase = .command  // avoid a copy-on-write of the reader's buffer
                guard let outcome = reader.read(from: &buffer) else {
                    phase = .data(reader)
                    break loop
                }
                actions += finishBody(outcome)
            case .chunk(let remaining, let last, let refusal):
                let take = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: take)!
                if refusal == nil { chunks?.append(slice) }
                if take < remaining {
                    phase = .chunk(remaining: remaining - take, last: last, refusal: refusal)
                    break loop
                }
                phase = .command
                actions += finishChunk(last: last, refusal: refusal)
            case .command:
                guard let frame = framer.next(from: &buffer) else { break loop }
                switch frame {
                case .tooLong:
                    actions += reply(.lineTooLong)
                case .line(let line):
                    actions += handleLine(line, buffer: &buffer)
                }
            }
            if actions.last == .close || actions.last == .startTLS { break }
        }
        return actions
    }

    private mutating func handleLine(_ line: ByteBuffer, buffer: inout ByteBuffer) -> [Action] {
        let command: SMTPCommand
        do {
            command = try SMTPCommandParser.parse(line.readableBytesView)
        } catch {
            return reply(error.reply)
        }
        switch command {
        case .helo(let name):
            heloName = name
            extended = false
            transaction = nil
            chunks = nil
            return [.send(SMTPReply(250, nil, configuration.hostname))]
        case .ehlo(let name):
            heloName = name
            extended = true
            transaction = nil
            chunks = nil
            return [.send(ehloReply(name))]
        case .mail(let path, let parameters):
            return mail(path, parameters)
        case .rcpt(let path, let parameters):
            return rcpt(EnvelopeRecipient(path: path, parameters: parameters))
        case .data:
            return data()
        case .bdat(let size, let last):
            return bdat(size: size, last: last)
        case .rset:
            transaction = nil
            chunks = nil
            return [.send(.resetOK)] + drainIfIdle()
        case .noop:
            return [.send(.ok)]
        case .quit:
            phase = .closed
            return [.send(SMTPReply(221, EnhancedStatus(2, 0, 0), "\(configuration.hostname) closing connection")), .close]
        case .vrfy:
            return [.send(.cannotVerify)]
        case .expn:
            return reply(.notImplemented)
        case .help:
            return [.send(SMTPReply(214, EnhancedStatus(2, 0, 0), "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS"))]
        case .startTLS:
            if tlsActive { return reply(.tlsAlreadyActive) }
            guard configuration.startTLSAvailable else { return [.send(.tlsNotAvailable)] }
            // RFC 3207 §4.2: forget everything learned before TLS, and never act on plaintext
            // that was pipelined behind STARTTLS.
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            heloName = nil
            authenticatedAs = nil
            extended = false
            transaction = nil
            chunks = nil
            return [.send(.readyToStartTLS), .startTLS]
        case .auth(let mechanism, let initialResponse):
            return auth(mechanism: mechanism, initialResponse: initialResponse)
        }
    }

    // MARK: - AUTH (RFC 4954)

    private var authOffered: Bool {
        !configuration.authMechanisms.isEmpty && (tlsActive || !configuration.authRequiresTLS)
    }

    private mutating func auth(mechanism: String, initialResponse: String?) -> [Action] {
        guard !configuration.authMechanisms.isEmpty else { return reply(.authNotAvailable) }
        guard heloName != nil, extended else { return reply(.badSequenceNeedHelo) }
        // RFC 4954 §4: AUTH is not permitted once authenticated, nor during a transaction.
        guard authenticatedAs == nil else { return reply(SMTPReply(503, EnhancedStatus(5, 5, 1), "Already authenticated")) }
        guard transaction == nil else { return reply(SMTPReply(503, EnhancedStatus(5, 5, 1), "AUTH not allowed during a mail transaction")) }
        guard authOffered else { return reply(.encryptionRequired) }
        guard configuration.authMechanisms.contains(mechanism) else {
            return reply(SMTPReply(504, EnhancedStatus(5, 5, 4), "Unrecognized authentication type"))
        }
        var decoded: [UInt8]? = nil
        if let initialResponse {
            // RFC 4954 §4: "=" is an empty initial response.
            if initialResponse == "=" {
                decoded = []
            } else {
                guard let bytes = Base64Text.decode(Array(initialResponse.utf8)) else { return reply(.badBase64) }
                decoded = bytes
            }
        }
        phase = .awaitingAuthentication
        return [.authenticate(mechanism: mechanism, initialResponse: decoded)]
    }

    private mutating func authenticationLine(_ frame: SMTPLineFramer.Frame) -> [Action] {
        phase = .command
        guard case .line(let line) = frame else { return [.cancelAuthentication] + reply(.badBase64) }
        let bytes = Array(line.readableBytesView)
        // RFC 4954 §4: "*" cancels, answered with 501.
        if bytes == [UInt8(ascii: "*")] {
            return [.cancelAuthentication] + reply(SMTPReply(501, EnhancedStatus(5, 0, 0), "Authentication cancelled"))
        }
        guard let decoded = Base64Text.decode(bytes) else { return [.cancelAuthentication] + reply(.badBase64) }
        phase = .awaitingAuthentication
        return [.authenticationResponse(decoded)]
    }

    /// The exchange needs another round: send `334` with the challenge.
    public mutating func authChallenge(_ challenge: [UInt8]) -> [Action] {
        guard case .awaitingAuthentication = phase else { return [] }
        phase = .authenticationResponse
        return [.send(SMTPReply(334, nil, Base64Text.encode(challenge)))]
    }

    /// The exchange succeeded for `identity`.
    public mutating func authSucceeded(_ identity: String) -> [Action] {
        guard case .awaitingAuthentication = phase else { return [] }
        phase = .command
        authenticatedAs = identity
        return [.send(SMTPReply(235, EnhancedStatus(2, 7, 0), "Authentication successful"))]
    }

    /// The exchange failed; `refusal` is the reply (535 5.7.8 for bad credentials).
    public mutating func authFailed(_ refusal: SMTPReply) -> [Action] {
        guard case .awaitingAuthentication = phase else { return [] }
        phase = .command
        return reply(refusal)
    }

    private func ehloReply(_ name: String) -> SMTPReply {
        var lines = ["\(configuration.hostname) greets \(name)"]
        lines.append("PIPELINING")
        lines.append("SIZE \(configuration.maximumMessageSize)")
        lines.append("8BITMIME")
        lines.append("SMTPUTF8")
        lines.append("ENHANCEDSTATUSCODES")
        lines.append("CHUNKING")
        lines.append("DSN")
        if configuration.startTLSAvailable && !tlsActive { lines.append("STARTTLS") }
        if authOffered { lines.append("AUTH " + configuration.authMechanisms.joined(separator: " ")) }
        lines.append("HELP")
        return SMTPReply(250, nil, lines: lines)
    }

    private mutating func mail(_ path: ReversePath, _ parameters: MailParameters) -> [Action] {
        guard heloName != nil else { return reply(.badSequenceNeedHelo) }
        guard transaction == nil, chunks == nil else { return reply(.nestedMail) }
        if draining { return [.send(.shuttingDown), .close] }
        abandonedTransactions += 1
        if abandonedTransactions > configuration.maximumTransactions {
            phase = .closed
            return [.send(.tooManyTransactions), .close]
        }
        // RFC 6409 §4.3 / RFC 4954: submission requires authentication before a transaction.
        if configuration.kind != .mx && !configuration.clientIsTrusted && authenticatedAs == nil {
            return reply(.authRequired)
        }
        // RFC 1870 §6.1: refuse a declared size above the limit before any data is sent.
        if let size = parameters.size, size > configuration.maximumMessageSize {
            return reply(.messageTooBig)
        }
        phase = .awaitingSender(path, parameters)
        return [.checkSender(path, parameters)]
    }

    /// The answer to `.checkSender`: nil accepts, a reply refuses.
    public mutating func senderChecked(_ refusal: SMTPReply?) -> [Action] {
        guard case .awaitingSender(let path, let parameters) = phase else { return [] }
        phase = .command
        if let refusal { return reply(refusal) }
        transaction = Envelope(reversePath: path, mailParameters: parameters)
        return [.send(.senderOK)]
    }

    private mutating func rcpt(_ recipient: EnvelopeRecipient) -> [Action] {
        guard let envelope = transaction else { return reply(.badSequenceNeedMail) }
        guard chunks == nil else { return reply(.badSequenceNeedMail) }
        // RFC 6531 §3.4: a non-ASCII address needs SMTPUTF8 on MAIL.
        if let mailbox = recipient.path.mailbox, mailbox.requiresSMTPUTF8, !envelope.mailParameters.smtpUTF8 {
            return reply(.utf8NeedsSMTPUTF8)
        }
        // RFC 5321 §3.3: the same recipient twice is accepted once.
        if envelope.recipients.contains(where: { $0.path == recipient.path }) {
            return [.send(.recipientOK)]
        }
        // RFC 5321 §4.5.3.1.10: 452 for too many recipients, and the client retries the rest.
        if envelope.recipients.count >= configuration.maximumRecipients {
            return [.send(.tooManyRecipients)]
        }
        phase = .awaitingRecipient(recipient)
        return [.checkRecipient(recipient)]
    }

    /// The answer to `.checkRecipient`: nil accepts, a reply refuses.
    public mutating func recipientChecked(_ refusal: SMTPReply?) -> [Action] {
        guard case .awaitingRecipient(let recipient) = phase else { return [] }
        phase = .command
        if let refusal { return reply(refusal) }
        transaction?.recipients.append(recipient)
        return [.send(.recipientOK)]
    }

    private mutating func data() -> [Action] {
        guard transaction != nil else { return reply(.badSequenceNeedMail) }
        guard chunks == nil else { return reply(SMTPReply(503, EnhancedStatus(5, 5, 1), "DATA not allowed after BDAT")) }
        guard transaction?.recipients.isEmpty == false else { return reply(.badSequenceNeedRcpt) }
        phase = .data(DataBodyReader(maximumSize: configuration.maximumMessageSize))
        return [.send(.startData)]
    }

    private mutating func bdat(size: Int, last: Bool) -> [Action] {
        // RFC 3030 §4.2: a BDAT that cannot be accepted still has its chunk read, then refused.
        var refusal: SMTPReply? = nil
        if transaction == nil {
            refusal = .badSequenceNeedMail
        } else if transaction?.recipients.isEmpty != false {
            refusal = .badSequenceNeedRcpt
        } else if chunks == nil {
            chunks = ChunkedBodyReader(maximumSize: configuration.maximumMessageSize)
        }
        phase = .chunk(remaining: size, last: last, refusal: refusal)
        if size == 0 {
            phase = .command
            return finishChunk(last: last, refusal: refusal)
        }
        return []
    }

    private mutating func finishChunk(last: Bool, refusal: SMTPReply?) -> [Action] {
        if let refusal { return reply(refusal) }
        guard last else {
            return [.send(SMTPReply(250, EnhancedStatus(2, 0, 0), "\(chunks?.totalSize ?? 0) octets received"))]
        }
        var reader = chunks!
        chunks = nil
        return finishBody(reader.finish())
    }

    private mutating func finishBody(_ outcome: BodyOutcome) -> [Action] {
        guard let envelope = transaction else { return reply(.badSequenceNeedMail) }
        switch outcome {
        case .refused(let defect):
            transaction = nil
            return reply(defect.reply) + drainIfIdle()
        case .complete(let content):
            phase = .awaitingStore
            return [.store(envelope, content, trace(for: envelope))]
        }
    }

    private func trace(for envelope: Envelope) -> TransactionTrace {
        // RFC 3848 §2 and RFC 6531 §3.7.3.
        var proto = extended ? "ESMTP" : "SMTP"
        if extended && tlsActive { proto += "S" }
        if envelope.mailParameters.smtpUTF8 { proto = "UTF8SMTP" + (tlsActive ? "S" : "") }
        if authenticatedAs != nil { proto += "A" }
        return TransactionTrace(heloName: heloName ?? "unknown", withProtocol: proto, tls: tlsActive)
    }

    /// The answer to `.store`: the queue id on success, or the reply to send instead.
    public mutating func stored(_ result: Result<String, StoreRefusal>) -> [Action] {
        guard case .awaitingStore = phase else { return [] }
        phase = .command
        transaction = nil
        switch result {
        case .success(let queueID):
            abandonedTransactions -= 1
            return [.send(SMTPReply(250, EnhancedStatus(2, 0, 0), "OK queued as \(queueID)"))] + drainIfIdle()
        case .failure(let refusal):
            return [.send(refusal.reply)] + drainIfIdle()
        }
    }

    // MARK: - Events from the connection

    /// TLS is now up (after `.startTLS`).
    public mutating func tlsEstablished() {
        tlsActive = true
    }

    /// Called periodically; closes the session when a timeout has passed.
    public mutating func tick(now: NIODeadline) -> [Action] {
        if isClosed { return [] }
        switch phase {
        case .awaitingSender, .awaitingRecipient, .awaitingStore, .awaitingAuthentication:
            return []  // our own work; the connection deadline still applies below
        default:
            if now - lastActivity >= configuration.commandTimeout {
                phase = .closed
                return [.send(.timeout), .close]
            }
        }
        if now - startedAt >= configuration.connectionTimeout {
            if case .awaitingStore = phase { return [] }
            phase = .closed
            return [.send(.timeout), .close]
        }
        return []
    }

    /// The server is shutting down: close now if idle, else after the current transaction.
    public mutating func beginShutdown() -> [Action] {
        draining = true
        return drainIfIdle()
    }

    /// Closes the session at once after `reply` (a limit was reached).
    public mutating func close(with reply: SMTPReply) -> [Action] {
        if isClosed { return [] }
        phase = .closed
        return [.send(reply), .close]
    }

    /// The shutdown deadline has passed: close whatever the state, unless a write is in flight.
    public mutating func forceClose() -> [Action] {
        if isClosed { return [] }
        if case .awaitingStore = phase { return [] }
        phase = .closed
        return [.send(.shuttingDown), .close]
    }

    private mutating func drainIfIdle() -> [Action] {
        guard draining, !inTransaction, !isClosed else { return [] }
        switch phase {
        case .command:
            phase = .closed
            return [.send(.shuttingDown), .close]
        default:
            return []
        }
    }

    // MARK: - Replies

    /// Sends a reply; a 5xx counts towards the error limit (as Postfix's smtpd_hard_error_limit).
    private mutating func reply(_ reply: SMTPReply) -> [Action] {
        guard reply.isPermanentFailure else { return [.send(reply)] }
        errorCount += 1
        if errorCount >= configuration.maximumErrors {
            phase = .closed
            return [.send(reply), .send(.tooManyErrors), .close]
        }
        return [.send(reply)]
    }
}

/// Why a message could not be stored; maps to the reply that keeps the client's copy alive.
public enum StoreRefusal: Error, Hashable, Sendable {
    /// Any failure to persist: 451 4.3.0, the client will retry.
    case failed
    /// The disk (or database) is full: 452 4.3.1.
    case insufficientStorage
    /// Policy refused the content (header From, quota): this reply.
    case rejected(SMTPReply)

    public var reply: SMTPReply {
        switch self {
        case .failed: .storageFailed
        case .insufficientStorage: .insufficientStorage
        case .rejected(let reply): reply
        }
    }
}
