import MailCore
import NIOCore
import Testing

@testable import SMTPProtocol

private func submission(tls: Bool = true) -> SMTPServerSessionConfiguration {
    SMTPServerSessionConfiguration(
        hostname: "mx.test", kind: .submission, startTLSAvailable: true, implicitTLS: tls, authMechanisms: ["PLAIN", "LOGIN", "SCRAM-SHA-256"])
}

@Suite struct AuthSessionTests {
    @Test func advertisedOnlyInsideTLS() {
        var plain = SessionDriver(submission(tls: false))
        let ehlo = plain.send("EHLO c\r\n")[0]
        #expect(!ehlo.lines.contains { $0.hasPrefix("AUTH") })
        // RFC 4954 §6 / issue: AUTH before STARTTLS on submission is 538 5.7.11.
        #expect(plain.send("AUTH PLAIN AGFsaWNlAHB3\r\n") == [.encryptionRequired])
        var tls = SessionDriver(submission())
        #expect(tls.send("EHLO c\r\n")[0].lines.contains("AUTH PLAIN LOGIN SCRAM-SHA-256"))
    }

    @Test func mxOffersNoAuth() {
        var d = SessionDriver()
        _ = d.codes("EHLO c")
        #expect(d.send("AUTH PLAIN AGFsaWNlAHB3\r\n") == [.authNotAvailable])
    }

    @Test func plainWithInitialResponseThenSend() {
        var d = SessionDriver(submission())
        _ = d.codes("EHLO c")
        #expect(d.codes("MAIL FROM:<alice@h.test>") == [530])
        #expect(d.codes("AUTH PLAIN AGFsaWNlAHB3") == [235])
        #expect(d.authRequests == ["PLAIN \u{0}alice\u{0}pw"])
        #expect(d.session.authenticatedAs == "alice@h.test")
        #expect(d.codes("MAIL FROM:<alice@h.test>") == [250])
        #expect(d.codes("RCPT TO:<anyone@far.test>") == [250])
        #expect(d.codes("DATA") == [354])
        _ = d.send("x\r\n.\r\n")
        #expect(d.stored.count == 1)
    }

    @Test func challengeRoundTrips() {
        var d = SessionDriver(submission())
        d.authChallenges = [Array("Username:".utf8), Array("Password:".utf8)]
        _ = d.codes("EHLO c")
        #expect(d.send("AUTH LOGIN\r\n") == [SMTPReply(334, nil, "VXNlcm5hbWU6")])
        #expect(d.send("YWxpY2U=\r\n") == [SMTPReply(334, nil, "UGFzc3dvcmQ6")])
        #expect(d.codes("cHc=") == [235])
        #expect(d.authRequests == ["LOGIN -", "alice", "pw"])
    }

    @Test func cancelWithStar() {
        var d = SessionDriver(submission())
        d.authChallenges = [[]]
        _ = d.codes("EHLO c")
        #expect(d.codes("AUTH PLAIN") == [334])
        #expect(d.send("*\r\n") == [SMTPReply(501, EnhancedStatus(5, 0, 0), "Authentication cancelled")])
        #expect(d.authRequests.last == "cancel")
        #expect(d.session.authenticatedAs == nil)
        #expect(d.codes("NOOP") == [250])
    }

    @Test func badBase64() {
        var d = SessionDriver(submission())
        _ = d.codes("EHLO c")
        #expect(d.send("AUTH PLAIN not*base64\r\n") == [.badBase64])
        d.authChallenges = [[]]
        #expect(d.codes("AUTH PLAIN") == [334])
        #expect(d.send("%%%%\r\n") == [.badBase64])
        #expect(d.authRequests.last == "cancel")
    }

    @Test func emptyInitialResponseIsEquals() {
        var d = SessionDriver(submission())
        _ = d.codes("EHLO c")
        #expect(d.codes("AUTH PLAIN =") == [235])
        #expect(d.authRequests == ["PLAIN "])
    }

    @Test func failureAndSequenceRules() {
        var d = SessionDriver(submission())
        d.authScript = [.authenticationFailed]
        #expect(d.codes("AUTH PLAIN AGFsaWNlAHB3") == [503])  // EHLO first
        _ = d.codes("EHLO c")
        #expect(d.send("AUTH PLAIN AGFsaWNlAHB4\r\n") == [.authenticationFailed])
        #expect(d.codes("AUTH CRAM-MD5") == [504])
        #expect(d.codes("AUTH PLAIN AGFsaWNlAHB3") == [235])
        #expect(d.codes("AUTH PLAIN AGFsaWNlAHB3") == [503])  // already authenticated
    }

    @Test func receivedSaysESMTPSA() {
        var d = SessionDriver(submission())
        _ = d.send("EHLO c\r\nAUTH PLAIN AGFsaWNlAHB3\r\nMAIL FROM:<alice@h.test>\r\nRCPT TO:<b@far.test>\r\nDATA\r\n")
        var trace: TransactionTrace?
        var input = ByteBuffer(string: "x\r\n.\r\n")
        for action in d.session.receive(&input, now: d.now) {
            if case .store(_, _, let t) = action { trace = t }
        }
        #expect(trace?.withProtocol == "ESMTPSA")
    }

    @Test func startTLSForgetsAuthentication() {
        var d = SessionDriver(
            SMTPServerSessionConfiguration(
                hostname: "mx", kind: .submission, startTLSAvailable: true, authMechanisms: ["PLAIN"], authRequiresTLS: false))
        _ = d.codes("EHLO c")
        #expect(d.codes("AUTH PLAIN AGFsaWNlAHB3") == [235])
        #expect(d.codes("STARTTLS") == [220])
        d.session.tlsEstablished()
        _ = d.codes("EHLO c")
        #expect(d.session.authenticatedAs == nil)
        #expect(d.codes("MAIL FROM:<alice@h.test>") == [530])
    }
}
