import MailCore
import NIOCore
import Testing

@testable import SMTPProtocol

/// Drives a session with no channel: input goes in, replies come out, and check/store actions
/// are answered by simple rules (recipients at "unknown.test" are refused, stores succeed).
struct SessionDriver {
    var session: SMTPServerSession
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var stored: [(Envelope, String)] = []
    var tlsStarted = false
    var closed = false
    var storeResult: Result<String, StoreRefusal> = .success("QID1")
    var senderRefusal: SMTPReply? = nil
    var pendingInput = ByteBuffer()
    var authRequests: [String] = []
    /// How the fake mechanism answers each step: a challenge, success or failure.
    var authScript: [SMTPReply?] = []
    var authChallenges: [[UInt8]] = []

    mutating func authAnswer() -> [SMTPServerSession.Action] {
        if !authChallenges.isEmpty { return session.authChallenge(authChallenges.removeFirst()) }
        if let refusal = authScript.first ?? nil {
            authScript.removeFirst()
            return session.authFailed(refusal)
        }
        return session.authSucceeded("alice@h.test")
    }

    init(_ configuration: SMTPServerSessionConfiguration = SMTPServerSessionConfiguration(hostname: "mx.test", kind: .mx, startTLSAvailable: true)) {
        session = SMTPServerSession(configuration: configuration, now: now)
    }

    /// Sends raw bytes; returns every reply produced, in order.
    mutating func send(_ text: String) -> [SMTPReply] {
        pendingInput.writeString(text)
        var replies: [SMTPReply] = []
        var actions = session.receive(&pendingInput, now: now)
        while !actions.isEmpty {
            var next: [SMTPServerSession.Action] = []
            for action in actions {
                switch action {
                case .send(let reply): replies.append(reply)
                case .checkSender: next += session.senderChecked(senderRefusal)
                case .checkRecipient(let r):
                    let refuse = r.path.mailbox?.domain.normalized == "unknown.test"
                    next += session.recipientChecked(refuse ? .noSuchUser : nil)
                case .store(let envelope, let content, _):
                    stored.append((envelope, String(buffer: content)))
                    next += session.stored(storeResult)
                case .authenticate(let mechanism, let initial):
                    authRequests.append("\(mechanism) \(initial.map { String(decoding: $0, as: UTF8.self) } ?? "-")")
                    next += authAnswer()
                case .authenticationResponse(let response):
                    authRequests.append(String(decoding: response, as: UTF8.self))
                    next += authAnswer()
                case .cancelAuthentication: authRequests.append("cancel")
                case .startTLS: tlsStarted = true
                case .close: closed = true
                }
            }
            // After answers, pipelined input still waiting is processed.
            next += session.receive(&pendingInput, now: now)
            actions = next
        }
        return replies
    }

    /// Sends one command line and returns the codes of the replies.
    mutating func codes(_ line: String) -> [Int] { send(line + "\r\n").map(\.code) }
}

@Suite struct SessionTests {
    @Test func greetingHasNoEnhancedCode() {
        let driver = SessionDriver()
        #expect(driver.session.greeting().description == "220 mx.test ESMTP Tern\r\n")
    }

    @Test func fullTransaction() {
        var d = SessionDriver()
        #expect(d.codes("EHLO client.test") == [250])
        #expect(d.codes("MAIL FROM:<a@remote.test>") == [250])
        #expect(d.codes("RCPT TO:<b@hosted.test>") == [250])
        #expect(d.codes("DATA") == [354])
        let replies = d.send("Subject: hi\r\n\r\nbody\r\n.\r\n")
        #expect(replies.map(\.code) == [250])
        #expect(replies.first?.lines.first?.contains("QID1") == true)
        #expect(d.stored.count == 1)
        #expect(d.stored[0].1 == "Subject: hi\r\n\r\nbody\r\n")
        #expect(d.stored[0].0.recipients.map(\.path.description) == ["b@hosted.test"])
        #expect(d.codes("QUIT") == [221])
        #expect(d.closed)
    }

    @Test func ehloAdvertisesExtensions() {
        var d = SessionDriver()
        let reply = d.send("EHLO c\r\n")[0]
        for keyword in ["PIPELINING", "SIZE 26214400", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "STARTTLS"] {
            #expect(reply.lines.contains(keyword), "\(keyword)")
        }
    }

    /// The sequence table of RFC 5321 §4.1.4: each out-of-order command gets 503.
    @Test func badSequences() {
        var d = SessionDriver()
        #expect(d.codes("MAIL FROM:<a@r.test>") == [503])
        #expect(d.codes("EHLO c") == [250])
        #expect(d.codes("RCPT TO:<b@h.test>") == [503])
        #expect(d.codes("DATA") == [503])
        #expect(d.codes("MAIL FROM:<a@r.test>") == [250])
        #expect(d.codes("MAIL FROM:<a@r.test>") == [503])
        #expect(d.codes("DATA") == [503])
        #expect(d.codes("RSET") == [250])
        #expect(d.codes("RCPT TO:<b@h.test>") == [503])
    }

    @Test func refusedRecipientsAndNoneAccepted() {
        var d = SessionDriver()
        _ = d.codes("EHLO c")
        _ = d.codes("MAIL FROM:<a@r.test>")
        #expect(d.codes("RCPT TO:<x@unknown.test>") == [550])
        #expect(d.codes("DATA") == [503])
        #expect(d.codes("RCPT TO:<b@h.test>") == [250])
        #expect(d.codes("RCPT TO:<b@h.test>") == [250])  // duplicate accepted once
        #expect(d.codes("DATA") == [354])
        _ = d.send(".\r\n")
        #expect(d.stored[0].0.recipients.count == 1)
    }

    @Test func pipelinedGroupGetsRepliesInOrder() {
        var d = SessionDriver()
        let replies = d.send("EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\nRCPT TO:<z@unknown.test>\r\nRCPT TO:<c@h.test>\r\nDATA\r\n")
        #expect(replies.map(\.code) == [250, 250, 250, 550, 250, 354])
        let end = d.send("hello\r\n.\r\nQUIT\r\n")
        #expect(end.map(\.code) == [250, 221])
    }

    @Test func maximumRecipients() {
        var d = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .mx, maximumRecipients: 2))
        _ = d.codes("EHLO c")
        _ = d.codes("MAIL FROM:<a@r.test>")
        #expect(d.codes("RCPT TO:<1@h.test>") == [250])
        #expect(d.codes("RCPT TO:<2@h.test>") == [250])
        let third = d.send("RCPT TO:<3@h.test>\r\n")
        #expect(third == [.tooManyRecipients])
    }

    @Test func declaredSizeTooLarge() {
        var d = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .mx, maximumMessageSize: 1000))
        _ = d.codes("EHLO c")
        #expect(d.send("MAIL FROM:<a@r.test> SIZE=1001\r\n") == [.messageTooBig])
        #expect(d.codes("MAIL FROM:<a@r.test> SIZE=1000") == [250])
    }

    @Test func bodyOverLimitIsReadThroughAndRefused() {
        var d = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .mx, maximumMessageSize: 1024))
        _ = d.send("EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\n")
        let big = String(repeating: "x", count: 500) + "\r\n"
        let replies = d.send(String(repeating: big, count: 5) + ".\r\nNOOP\r\n")
        #expect(replies == [.messageTooBig, .ok])
        #expect(d.stored.isEmpty)
        // The transaction is over: a new MAIL is accepted.
        #expect(d.codes("MAIL FROM:<a@r.test>") == [250])
    }

    @Test func submissionRequiresAuthentication() {
        var d = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .submission))
        _ = d.codes("EHLO c")
        #expect(d.send("MAIL FROM:<a@r.test>\r\n") == [.authRequired])
        var trusted = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .submission, clientIsTrusted: true))
        _ = trusted.codes("EHLO c")
        #expect(trusted.codes("MAIL FROM:<a@r.test>") == [250])
    }

    /// RFC 3207 §4.2 and CVE-2011-0411: plaintext pipelined behind STARTTLS is never executed,
    /// and the session starts over.
    @Test func startTLSDiscardsPipelinedPlaintext() {
        var d = SessionDriver()
        _ = d.codes("EHLO c")
        let replies = d.send("STARTTLS\r\nMAIL FROM:<evil@r.test>\r\nRCPT TO:<b@h.test>\r\n")
        #expect(replies == [.readyToStartTLS])
        #expect(d.tlsStarted)
        #expect(d.pendingInput.readableBytes == 0)
        d.session.tlsEstablished()
        // EHLO must come again; nothing from before survived.
        #expect(d.codes("MAIL FROM:<a@r.test>") == [503])
        let ehlo = d.send("EHLO c\r\n")[0]
        #expect(!ehlo.lines.contains("STARTTLS"))
        #expect(d.send("STARTTLS\r\n") == [.tlsAlreadyActive])
    }

    @Test func startTLSWithoutCertificate() {
        var d = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .mx))
        _ = d.codes("EHLO c")
        #expect(d.send("STARTTLS\r\n") == [.tlsNotAvailable])
        #expect(!d.tlsStarted)
    }

    @Test func bdatTransaction() {
        var d = SessionDriver()
        _ = d.send("EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\n")
        let replies = d.send("BDAT 12\r\nSubject: x\r\nBDAT 8 LAST\r\n\r\nbody\r\n")
        #expect(replies.map(\.code) == [250, 250])
        #expect(d.stored.first?.1 == "Subject: x\r\n\r\nbody\r\n")
        // DATA after BDAT in one transaction is refused (RFC 3030 §3).
        _ = d.send("MAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\nBDAT 3\r\nabc")
        #expect(d.codes("DATA") == [503])
    }

    @Test func bdatWithoutRecipientsStillConsumesItsChunk() {
        var d = SessionDriver()
        _ = d.codes("EHLO c")
        let replies = d.send("BDAT 10 LAST\r\nMAIL FROM:NOOP\r\n")
        #expect(replies.map(\.code) == [503, 250])
    }

    @Test func bdatZeroLast() {
        var d = SessionDriver()
        _ = d.send("EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\n")
        #expect(d.codes("BDAT 0 LAST") == [250])
        #expect(d.stored.first?.1 == "")
    }

    @Test func storeFailureNeverSays250() {
        var d = SessionDriver()
        d.storeResult = .failure(.failed)
        _ = d.send("EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\n")
        #expect(d.send("x\r\n.\r\n") == [.storageFailed])
        d.storeResult = .failure(.insufficientStorage)
        _ = d.send("MAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\n")
        #expect(d.send("x\r\n.\r\n") == [.insufficientStorage])
    }

    @Test func senderRefusalFromPolicy() {
        var d = SessionDriver()
        d.senderRefusal = .insufficientStorage
        _ = d.codes("EHLO c")
        #expect(d.send("MAIL FROM:<a@r.test>\r\n") == [.insufficientStorage])
        #expect(d.codes("RCPT TO:<b@h.test>") == [503])
    }

    @Test func utf8RecipientNeedsSMTPUTF8() {
        var d = SessionDriver()
        _ = d.codes("EHLO c")
        _ = d.codes("MAIL FROM:<a@r.test>")
        #expect(d.send("RCPT TO:<josé@h.test>\r\n") == [.utf8NeedsSMTPUTF8])
        _ = d.codes("RSET")
        #expect(d.codes("MAIL FROM:<zoë@r.test> SMTPUTF8") == [250])
        #expect(d.codes("RCPT TO:<josé@h.test>") == [250])
    }

    @Test func tooManyErrorsCloses() {
        var d = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .mx, maximumErrors: 3))
        #expect(d.codes("BOGUS") == [500])
        #expect(d.codes("BOGUS") == [500])
        #expect(d.codes("BOGUS") == [500, 421])
        #expect(d.closed)
        #expect(d.send("EHLO c\r\n").isEmpty)
    }

    @Test func overlongCommandLine() {
        var d = SessionDriver()
        #expect(d.send(String(repeating: "A", count: 5000) + "\r\nNOOP\r\n") == [.lineTooLong, .ok])
    }

    @Test func otherCommands() {
        var d = SessionDriver()
        #expect(d.send("VRFY bob\r\n") == [.cannotVerify])
        #expect(d.codes("EXPN list") == [502])
        #expect(d.codes("HELP") == [214])
        #expect(d.codes("NOOP") == [250])
        #expect(d.codes("AUTH PLAIN") == [502])
        #expect(d.send("HELO c\r\n")[0].description == "250 mx.test\r\n")
    }

    @Test func commandTimeoutWithMockClock() {
        var d = SessionDriver(SMTPServerSessionConfiguration(hostname: "mx", kind: .mx, commandTimeout: .seconds(300)))
        #expect(d.session.tick(now: d.now + .seconds(299)).isEmpty)
        d.now = d.now + .seconds(200)
        _ = d.codes("NOOP")  // activity resets the idle clock
        #expect(d.session.tick(now: d.now + .seconds(299)).isEmpty)
        #expect(d.session.tick(now: d.now + .seconds(300)) == [.send(.timeout), .close])
        #expect(d.session.isClosed)
    }

    @Test func connectionTimeoutWithMockClock() {
        var d = SessionDriver(
            SMTPServerSessionConfiguration(hostname: "mx", kind: .mx, commandTimeout: .seconds(300), connectionTimeout: .seconds(600)))
        for _ in 0..<5 {
            d.now = d.now + .seconds(100)
            _ = d.codes("NOOP")
        }
        #expect(d.session.tick(now: d.now + .seconds(99)).isEmpty)
        #expect(d.session.tick(now: d.now + .seconds(100)) == [.send(.timeout), .close])
    }

    @Test func shutdownWhenIdleClosesAtOnce() {
        var d = SessionDriver()
        _ = d.codes("EHLO c")
        #expect(d.session.beginShutdown() == [.send(.shuttingDown), .close])
    }

    @Test func shutdownLetsTheTransactionFinish() {
        var d = SessionDriver()
        _ = d.send("EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\n")
        #expect(d.session.beginShutdown().isEmpty)
        let replies = d.send("hello\r\n.\r\n")
        #expect(replies.map(\.code) == [250, 421])
        #expect(d.closed)
        #expect(d.stored.count == 1)
    }

    @Test func forceCloseWaitsForADurableWrite() {
        var session = SMTPServerSession(configuration: SMTPServerSessionConfiguration(hostname: "mx", kind: .mx), now: .now())
        var input = ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@r.test>\r\n")
        _ = session.receive(&input, now: .now())
        _ = session.senderChecked(nil)
        input.writeString("RCPT TO:<b@h.test>\r\n")
        _ = session.receive(&input, now: .now())
        _ = session.recipientChecked(nil)
        input.writeString("DATA\r\nx\r\n.\r\n")
        let actions = session.receive(&input, now: .now())
        #expect(actions.contains { if case .store = $0 { true } else { false } })
        #expect(session.forceClose().isEmpty)  // never cut off a write in flight
        #expect(session.stored(.success("Q")) == [.send(SMTPReply(250, EnhancedStatus(2, 0, 0), "OK queued as Q"))])
        #expect(session.forceClose() == [.send(.shuttingDown), .close])
    }

    @Test func smugglingAttemptIsOneRefusedMessage() {
        var d = SessionDriver()
        _ = d.send("EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\n")
        let replies = d.send("Subject: a\r\n\r\nbody\n.\nMAIL FROM:<evil@r.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\nforged\r\n.\r\n")
        #expect(replies == [.bareLineEnding])
        #expect(d.stored.isEmpty)
    }

    /// Dripping a whole session one byte at a time gives the same replies as sending it at once.
    @Test func byteAtATimeSession() {
        let script = "EHLO c\r\nMAIL FROM:<a@r.test> SIZE=10\r\nRCPT TO:<b@h.test>\r\nDATA\r\nhi\r\n..x\r\n.\r\nBDAT 1\r\nQUIT\r\n"
        var whole = SessionDriver()
        let expected = whole.send(script)
        var drip = SessionDriver()
        var got: [SMTPReply] = []
        for scalar in script.unicodeScalars { got += drip.send(String(scalar)) }
        #expect(got == expected)
        #expect(drip.stored.map(\.1) == whole.stored.map(\.1))
    }
}

/// Issue 12 item 2: a connection may give only so many MAIL commands; then 421 and close.
@Suite struct TransactionCapTests {
    @Test func abandonedTransactionsPerConnectionAreCapped() {
        var session = SMTPServerSession(configuration: SMTPServerSessionConfiguration(hostname: "mx.test", kind: .mx, maximumTransactions: 3), now: .now())
        var buffer = ByteBuffer(string: "EHLO c\r\n")
        _ = session.receive(&buffer, now: .now())
        // Messages that are stored do not count: a busy client may send many.
        for _ in 0..<10 {
            var mail = ByteBuffer(string: "MAIL FROM:<a@b.test>\r\n")
            _ = session.receive(&mail, now: .now())
            _ = session.senderChecked(nil)
            var rcpt = ByteBuffer(string: "RCPT TO:<c@d.test>\r\n")
            _ = session.receive(&rcpt, now: .now())
            _ = session.recipientChecked(nil)
            var data = ByteBuffer(string: "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n")
            _ = session.receive(&data, now: .now())
            #expect(session.stored(.success("Q")).contains { if case .send(let reply) = $0 { reply.code == 250 } else { false } })
        }
        for _ in 0..<3 {
            var mail = ByteBuffer(string: "MAIL FROM:<a@b.test>\r\n")
            #expect(session.receive(&mail, now: .now()).contains { if case .checkSender = $0 { true } else { false } })
            _ = session.senderChecked(nil)
            var rset = ByteBuffer(string: "RSET\r\n")
            _ = session.receive(&rset, now: .now())
        }
        var fourth = ByteBuffer(string: "MAIL FROM:<a@b.test>\r\n")
        let actions = session.receive(&fourth, now: .now())
        #expect(actions.contains { if case .send(let reply) = $0 { reply.code == 421 && reply.enhanced == EnhancedStatus(4, 7, 0) } else { false } })
        #expect(actions.contains { if case .close = $0 { true } else { false } })
    }
}
