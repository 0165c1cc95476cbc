import MailCore
import NIOCore

/// The client side of an SMTP session (RFC 5321 §3, §4.1): greeting, EHLO (HELO when EHLO is
/// refused), STARTTLS whenever offered (RFC 3207), then transactions one after another, with
/// PIPELINING (RFC 2920) and CHUNKING (RFC 3030) when the peer has them. No I/O: the driver feeds
/// replies in and carries the actions out.
public struct SMTPClientSession: Sendable {
    public struct Settings: Sendable {
        /// The name Tern gives in EHLO.
        public var heloName: String
        /// Ask for STARTTLS when the peer offers it.
        public var useStartTLS: Bool
        /// Use BDAT when the peer offers CHUNKING (DATA otherwise).
        public var useChunking: Bool
        /// Never send a message in plaintext: a peer that does not offer STARTTLS, or refuses
        /// it, ends the session with a temporary failure (the message is deferred, 4.7.10).
        public var requireTLS: Bool

        public init(heloName: String, useStartTLS: Bool = true, useChunking: Bool = true, requireTLS: Bool = false) {
            self.heloName = heloName
            self.useStartTLS = useStartTLS
            self.useChunking = useChunking
            self.requireTLS = requireTLS
        }
    }

    public enum Action: Sendable {
        /// Write these bytes.
        case send(ByteBuffer)
        /// The peer said 220 to STARTTLS: start the TLS handshake, then call `tlsEstablished()`.
        case startTLS
        /// The session is ready for a transaction (`begin`).
        case ready
        /// The transaction begun last is over; one result per recipient, in order.
        case finished([RecipientResult])
        /// The session cannot go on (bad greeting, refused EHLO and HELO, 421, protocol error):
        /// close the connection. `reply` is the peer's reason when there was one.
        case failed(SMTPReply)
    }

    public enum Phase: Hashable, Sendable {
        case greeting, ehlo, helo, startTLS, handshake, ready, transaction, quitting, closed
    }

    private enum Expected: Hashable, Sendable {
        case reset, mail, recipient(Int), data, body, bdat
    }

    private struct Transaction: Sendable {
        /// Position in the batch, so results leave in the order messages came in.
        var id: Int
        var message: OutboundMessage
        /// Replies still owed to this transaction.
        var outstanding = 0
        var mailReply: SMTPReply?
        var recipientReplies: [SMTPReply?]
        var finalReply: SMTPReply?
        /// The peer said 354: the reply after the content ends the transaction either way.
        var gotGoAhead = false

        init(id: Int, message: OutboundMessage) {
            self.id = id
            self.message = message
            recipientReplies = Array(repeating: nil, count: message.recipients.count)
        }

        var anyRecipientAccepted: Bool { recipientReplies.contains { $0?.isPositive == true } }
    }

    public let settings: Settings
    public private(set) var phase: Phase = .greeting
    public private(set) var capabilities = ServerCapabilities(ehloReply: SMTPReply(250, nil, ""))
    public private(set) var isTLSActive = false
    /// The peer's greeting, for the attempt log.
    public private(set) var greeting: SMTPReply?
    /// Transactions begun and not finished, oldest first: at most two, when the next one's
    /// commands went out with the previous one's content.
    private var active: [Transaction] = []
    /// Replies awaited, in the order the peer will send them, with the transaction they belong to.
    private var expected: [(id: Int, kind: Expected)] = []
    /// Messages of the batch not yet begun.
    private var waiting: [OutboundMessage] = []
    private var nextID = 0
    /// After a transaction the peer may still hold state (a refused DATA): RSET first.
    private var needsReset = false

    public init(settings: Settings) {
        self.settings = settings
    }

    private var pipelining: Bool { capabilities.offers("PIPELINING") }
    private var chunking: Bool { settings.useChunking && capabilities.offers("CHUNKING") }

    // MARK: events

    public mutating func receive(_ reply: SMTPReply) -> [Action] {
        switch phase {
        case .greeting:
            greeting = reply
            guard reply.code == 220 else { return fail(reply) }
            return sendEHLO()
        case .ehlo:
            if reply.code == 250 {
                capabilities = ServerCapabilities(ehloReply: reply)
                if settings.useStartTLS && !isTLSActive && capabilities.offers("STARTTLS") {
                    phase = .startTLS
                    return [.send(Self.line(.startTLS))]
                }
                if settings.requireTLS && !isTLSActive { return quitWithoutTLS("The peer does not offer STARTTLS") }
                phase = .ready
                return [.ready]
            }
            // RFC 5321 §4.1.1.1 / §3.2: an old server that does not know EHLO gets HELO
            // (which cannot offer STARTTLS: not when TLS is required).
            if reply.isPermanentFailure && !isTLSActive {
                if settings.requireTLS { return quitWithoutTLS("The peer refused EHLO, so it cannot offer STARTTLS") }
                phase = .helo
                return [.send(Self.line(.helo(settings.heloName)))]
            }
            return fail(reply)
        case .helo:
            guard reply.code == 250 else { return fail(reply) }
            capabilities = ServerCapabilities(ehloReply: SMTPReply(250, nil, ""))
            phase = .ready
            return [.ready]
        case .startTLS:
            if reply.code == 220 {
                phase = .handshake
                return [.startTLS]
            }
            // Opportunistic TLS: a refused STARTTLS leaves the session as it was (RFC 3207 §4).
            if reply.code == 421 { return fail(reply) }
            if settings.requireTLS { return quitWithoutTLS("The peer refused STARTTLS (\(reply.code))") }
            phase = .ready
            return [.ready]
        case .handshake, .ready:
            // Nothing was asked: the peer is out of step, or closing (421).
            return fail(reply)
        case .quitting, .closed:
            phase = .closed
            return []
        case .transaction:
            return transactionReply(reply)
        }
    }

    /// The TLS handshake finished: RFC 3207 §4.2 says forget everything and EHLO again.
    public mutating func tlsEstablished() -> [Action] {
        guard phase == .handshake else { return [] }
        isTLSActive = true
        capabilities = ServerCapabilities(ehloReply: SMTPReply(250, nil, ""))
        return sendEHLO()
    }

    /// The connection ended (closed by the peer, timed out, a parse error). Every transaction in
    /// progress ends with its unresolved recipients deferred, and every message of the batch
    /// not yet begun is reported as not sent.
    public mutating func connectionClosed(reason: String = "Connection lost") -> [Action] {
        defer { phase = .closed }
        guard phase == .transaction else { return [] }
        return abandonAll(closedWith: SMTPReply(451, EnhancedStatus(4, 4, 2), reason), remote: false)
    }

    /// Starts a transaction; valid only in the ready phase.
    public mutating func begin(_ message: OutboundMessage) -> [Action] {
        begin([message])
    }

    /// Starts a batch: the messages go one after another on this connection, and there is one
    /// `.finished` per message, in order. With PIPELINING (and DATA), a message's commands go out
    /// in the same write as the previous message's content — RFC 2920 §3.1 allows content as the
    /// first "command" of a group — so each message costs one round trip, not two.
    public mutating func begin(_ messages: [OutboundMessage]) -> [Action] {
        precondition(phase == .ready, "begin() outside the ready phase")
        waiting = messages
        phase = .transaction
        return startNext()
    }

    /// Ends the session politely.
    public mutating func quit() -> [Action] {
        guard phase == .ready || phase == .transaction || phase == .startTLS else { return [] }
        phase = .quitting
        return [.send(Self.line(.quit))]
    }

    // MARK: transaction

    /// Begins waiting messages until one is on the wire (or none is left: back to ready).
    private mutating func startNext() -> [Action] {
        var actions: [Action] = []
        while let message = waiting.first {
            waiting.removeFirst()
            if message.recipients.isEmpty {
                actions.append(.finished([]))
                continue
            }
            if let refusal = capabilityRefusal(for: message) {
                actions.append(.finished(message.recipients.map { _ in RecipientResult(reply: refusal, fromRemote: false) }))
                continue
            }
            var out = ByteBuffer()
            writeTransaction(message, into: &out)
            actions.append(.send(out))
            return actions
        }
        phase = .ready
        return actions
    }

    /// Writes RSET if needed, then MAIL (and with PIPELINING every RCPT and the DATA or BDAT).
    private mutating func writeTransaction(_ message: OutboundMessage, into out: inout ByteBuffer) {
        var transaction = Transaction(id: nextID, message: message)
        nextID += 1
        if needsReset {
            needsReset = false
            SMTPCommand.rset.encode(into: &out)
            expect(.reset, for: &transaction)
            if !pipelining {
                active.append(transaction)
                return
            }
        }
        writeMail(for: message, into: &out)
        expect(.mail, for: &transaction)
        if pipelining {
            // RFC 2920 §3.1: MAIL, every RCPT and the DATA (or BDAT with its chunk) in one write.
            for index in message.recipients.indices {
                writeRecipient(message.recipients[index], into: &out)
                expect(.recipient(index), for: &transaction)
            }
            writeDataCommand(for: message, into: &out, transaction: &transaction)
        }
        active.append(transaction)
    }

    private mutating func expect(_ kind: Expected, for transaction: inout Transaction) {
        expected.append((transaction.id, kind))
        transaction.outstanding += 1
    }

    private mutating func transactionReply(_ reply: SMTPReply) -> [Action] {
        guard !expected.isEmpty else { return fail(reply) }
        let (id, kind) = expected.removeFirst()
        guard let slot = active.firstIndex(where: { $0.id == id }) else { return fail(reply) }
        // 421 may come in place of any reply (RFC 5321 §3.8): the peer is going away.
        if reply.code == 421 {
            return abandonAll(closedWith: reply, remote: true) + failOnly(reply)
        }
        var transaction = active[slot]
        transaction.outstanding -= 1
        var out = ByteBuffer()
        var done = false
        switch kind {
        case .reset:
            if !pipelining {
                writeMail(for: transaction.message, into: &out)
                expect(.mail, for: &transaction)
            }
        case .mail:
            transaction.mailReply = reply
            if !pipelining {
                if reply.isPositive {
                    writeRecipient(transaction.message.recipients[0], into: &out)
                    expect(.recipient(0), for: &transaction)
                } else {
                    done = true
                }
            }
        case .recipient(let index):
            transaction.recipientReplies[index] = reply
            if !pipelining {
                let next = index + 1
                if next < transaction.message.recipients.count {
                    writeRecipient(transaction.message.recipients[next], into: &out)
                    expect(.recipient(next), for: &transaction)
                } else if transaction.anyRecipientAccepted {
                    writeDataCommand(for: transaction.message, into: &out, transaction: &transaction)
                } else {
                    done = true
                }
            }
        case .data:
            if reply.code == 354 {
                transaction.gotGoAhead = true
                if transaction.mailReply?.isPositive == true && transaction.anyRecipientAccepted {
                    DotStuffing.encode(transaction.message.content, into: &out)
                } else {
                    // RFC 2920 §3.1: a server that says 354 with no valid recipient still gets
                    // an (empty) message end; its reply is ignored.
                    out.writeString(".\r\n")
                }
                expect(.body, for: &transaction)
                active[slot] = transaction
                // The next message's commands ride with this content (RFC 2920 §3.1). Only
                // when the peer can take nothing else first: no RSET pending, and the next
                // message is not one to refuse locally (results must stay in order).
                if pipelining, !needsReset, let next = waiting.first, !next.recipients.isEmpty, capabilityRefusal(for: next) == nil {
                    waiting.removeFirst()
                    writeTransaction(next, into: &out)
                }
                return [.send(out)]
            }
            transaction.finalReply = reply
            done = true
        case .body, .bdat:
            transaction.finalReply = reply
            done = true
        }
        if transaction.outstanding == 0 && !done && out.readableBytes == 0 {
            // Pipelined replies all in, nothing more to send: a refused MAIL, or no recipient.
            done = true
        }
        if done && transaction.outstanding > 0 {
            // Pipelined replies still to come (a refused MAIL): wait for them.
            done = false
        }
        active[slot] = transaction
        var actions: [Action] = out.readableBytes > 0 ? [.send(out)] : []
        if done {
            actions += finish(slot)
        }
        return actions
    }

    /// The transaction at `slot` has all its replies: report it, and go on with the batch.
    private mutating func finish(_ slot: Int) -> [Action] {
        let transaction = active.remove(at: slot)
        // MAIL was taken but no content ended the transaction (a refused DATA or BDAT, or no
        // recipient): the peer may still hold it, so the next one starts with RSET.
        if transaction.mailReply?.isPositive == true && transaction.finalReply?.isPositive != true && !transaction.gotGoAhead {
            needsReset = true
        }
        var actions: [Action] = [.finished(Self.results(transaction, closedWith: nil))]
        if active.isEmpty { actions += startNext() }
        return actions
    }

    /// Every transaction in progress and every waiting message, reported in order.
    private mutating func abandonAll(closedWith reply: SMTPReply, remote: Bool) -> [Action] {
        var actions: [Action] = active.map { .finished(Self.results($0, closedWith: reply.isTransientFailure ? reply : nil, remote: remote)) }
        let notSent = SMTPReply(451, EnhancedStatus(4, 4, 2), "Connection lost before the transaction")
        actions += waiting.map { message in .finished(message.recipients.map { _ in RecipientResult(reply: notSent, fromRemote: false) }) }
        active = []
        waiting = []
        expected = []
        return actions
    }

    /// Per-recipient results from the replies collected. `closedWith` stands in for every reply
    /// that never came.
    private static func results(_ transaction: Transaction, closedWith: SMTPReply?, remote: Bool = false) -> [RecipientResult] {
        let missing = closedWith ?? SMTPReply(451, EnhancedStatus(4, 4, 2), "No reply from the remote server")
        let missingFromRemote = closedWith != nil && remote
        return transaction.message.recipients.indices.map { index in
            if let mail = transaction.mailReply, !mail.isPositive { return RecipientResult(reply: mail) }
            guard transaction.mailReply != nil else { return RecipientResult(reply: missing, fromRemote: missingFromRemote) }
            guard let recipient = transaction.recipientReplies[index] else {
                return RecipientResult(reply: missing, fromRemote: missingFromRemote)
            }
            if !recipient.isPositive { return RecipientResult(reply: recipient) }
            guard let final = transaction.finalReply else { return RecipientResult(reply: missing, fromRemote: missingFromRemote) }
            // A 354 that ended in a refusal, or a refused DATA: that refusal decides.
            return RecipientResult(reply: final)
        }
    }

    // MARK: writing commands

    /// RFC 1870, RFC 6152, RFC 6531: a message the peer cannot take is refused before MAIL.
    private func capabilityRefusal(for message: OutboundMessage) -> SMTPReply? {
        if let maximum = capabilities.maximumSize, message.content.count > maximum {
            return SMTPReply(552, EnhancedStatus(5, 3, 4), "Message is larger than the remote server's limit of \(maximum) octets")
        }
        if message.requiresSMTPUTF8 && !capabilities.offers("SMTPUTF8") {
            return SMTPReply(553, EnhancedStatus(5, 6, 7), "The remote server does not support SMTPUTF8, which this message needs")
        }
        if message.is8Bit && !capabilities.offers("8BITMIME") {
            return SMTPReply(554, EnhancedStatus(5, 6, 3), "The remote server does not accept 8-bit content and conversion is not supported")
        }
        return nil
    }

    private func writeMail(for message: OutboundMessage, into out: inout ByteBuffer) {
        // Each parameter only when the peer offers its extension (RFC 1870, 6152, 6531, 3461).
        var parameters = MailParameters(smtpUTF8: message.requiresSMTPUTF8)
        if capabilities.offers("SIZE") { parameters.size = message.content.count }
        if message.is8Bit && capabilities.offers("8BITMIME") { parameters.body = .eightBitMIME }
        if capabilities.offers("DSN") {
            parameters.ret = message.dsnReturn
            parameters.envelopeID = message.envelopeID
        }
        SMTPCommand.mail(message.reversePath, parameters).encode(into: &out)
    }

    private func writeRecipient(_ recipient: OutboundRecipient, into out: inout ByteBuffer) {
        let parameters =
            capabilities.offers("DSN")
            ? RecipientParameters(notify: recipient.notify, originalRecipient: recipient.originalRecipient) : RecipientParameters()
        SMTPCommand.rcpt(recipient.path, parameters).encode(into: &out)
    }

    private mutating func writeDataCommand(for message: OutboundMessage, into out: inout ByteBuffer, transaction: inout Transaction) {
        if chunking {
            // RFC 3030: the chunk is the exact octets, CRLF-normalised but not dot-stuffed.
            let body = DotStuffing.crlf(message.content)
            SMTPCommand.bdat(size: body.count, last: true).encode(into: &out)
            out.writeBytes(body)
            expect(.bdat, for: &transaction)
        } else {
            SMTPCommand.data.encode(into: &out)
            expect(.data, for: &transaction)
        }
    }

    private mutating func sendEHLO() -> [Action] {
        phase = .ehlo
        return [.send(Self.line(.ehlo(settings.heloName)))]
    }

    /// TLS is required and this peer will not do it: QUIT and defer, never plaintext.
    private mutating func quitWithoutTLS(_ why: String) -> [Action] {
        let quit = Self.line(.quit)
        return [.send(quit)] + fail(SMTPReply(451, EnhancedStatus(4, 7, 10), "\(why); TLS is required (verify_certificates), so nothing was sent"))
    }

    private mutating func fail(_ reply: SMTPReply) -> [Action] {
        let actions = abandonAll(closedWith: reply, remote: false)
        return actions + failOnly(reply)
    }

    private mutating func failOnly(_ reply: SMTPReply) -> [Action] {
        phase = .closed
        return [.failed(reply)]
    }

    private static func line(_ command: SMTPCommand) -> ByteBuffer {
        var buffer = ByteBuffer()
        command.encode(into: &buffer)
        return buffer
    }
}
