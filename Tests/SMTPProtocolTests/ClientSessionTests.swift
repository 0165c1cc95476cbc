import MailCore
import NIOCore
import Testing

@testable import SMTPProtocol

/// A scripted SMTP server for the client state machine: it parses what the client writes
/// (commands, DATA bodies with the real DATA reader, BDAT chunks) and answers by rule.
private struct ScriptedPeer {
    var greeting = "220 mx.test ESMTP"
    var extensions = ["PIPELINING", "SIZE 100000", "8BITMIME", "DSN", "ENHANCEDSTATUSCODES"]
    var extensionsAfterTLS: [String]? = nil
    var ehloReply: String? = nil
    var mailReply: (String) -> String = { _ in "250 2.1.0 Sender OK" }
    var rcptReply: (String) -> String = { _ in "250 2.1.5 Recipient OK" }
    var dataReply = "354 Go ahead"
    var finalReply: (Int) -> String = { n in "250 2.0.0 Queued as \(n)" }
    var startTLSReply = "220 2.0.0 Ready"

    private(set) var commands: [String] = []
    private(set) var bodies: [[UInt8]] = []
    /// How many separate writes carried commands (pipelining puts several in one).
    private(set) var writes = 0
    var tls = false
    private var inData: DataBodyReader?
    private var bdatRemaining: Int?
    private var bdatBody: [UInt8] = []
    private var pendingLine: [UInt8] = []
    private var acceptedRecipients = 0
    private var mailAccepted = false

    mutating func consume(_ buffer: ByteBuffer) -> [String] {
        writes += 1
        var replies: [String] = []
        var bytes = buffer.readableBytesView[...]
        while !bytes.isEmpty {
            if let remaining = bdatRemaining {
                let take = min(remaining, bytes.count)
                bdatBody += bytes.prefix(take)
                bytes = bytes.dropFirst(take)
                bdatRemaining = remaining - take == 0 ? nil : remaining - take
                if bdatRemaining == nil {
                    if acceptedRecipients == 0 {
                        replies.append("503 5.5.1 No valid recipients")
                    } else {
                        bodies.append(bdatBody)
                        replies.append(finalReply(bodies.count))
                    }
                    bdatBody = []
                    acceptedRecipients = 0
                }
                continue
            }
            if var reader = inData {
                var chunk = ByteBuffer(bytes: bytes)
                let before = chunk.readableBytes
                let outcome = reader.read(from: &chunk)
                bytes = bytes.dropFirst(before - chunk.readableBytes)
                if case .complete(let body) = outcome {
                    inData = nil
                    bodies.append(Array(body.readableBytesView))
                    replies.append(finalReply(bodies.count))
                    acceptedRecipients = 0
                } else {
                    inData = reader
                }
                continue
            }
            guard let newline = bytes.firstIndex(of: 0x0A) else {
                pendingLine += bytes
                break
            }
            var lineBytes = pendingLine + bytes[..<newline]
            if lineBytes.last == 0x0D { lineBytes.removeLast() }
            let line = String(decoding: lineBytes, as: UTF8.self)
            pendingLine = []
            bytes = bytes[(newline + 1)...]
            commands.append(line)
            replies.append(contentsOf: answer(line))
        }
        return replies
    }

    private mutating func answer(_ line: String) -> [String] {
        let upper = line.uppercased()
        if upper.hasPrefix("EHLO") {
            if let ehloReply { return [ehloReply] }
            let list = (tls ? extensionsAfterTLS ?? extensions : extensions)
            return ["250-mx.test"] + list.dropLast().map { "250-\($0)" } + (list.last.map { ["250 \($0)"] } ?? [])
        }
        if upper.hasPrefix("HELO") { return ["250 mx.test"] }
        if upper == "STARTTLS" { return [startTLSReply] }
        if upper.hasPrefix("MAIL FROM:") {
            let reply = mailReply(line)
            mailAccepted = reply.hasPrefix("2")
            return [reply]
        }
        if upper.hasPrefix("RCPT TO:") {
            guard mailAccepted else { return ["503 5.5.1 Need MAIL first"] }
            let reply = rcptReply(line)
            if reply.hasPrefix("2") { acceptedRecipients += 1 }
            return [reply]
        }
        if upper == "DATA" {
            if acceptedRecipients == 0 { return ["503 5.5.1 No valid recipients"] }
            if dataReply.hasPrefix("354") { inData = DataBodyReader(maximumSize: 1 << 20) }
            return [dataReply]
        }
        if upper.hasPrefix("BDAT ") {
            let parts = line.split(separator: " ")
            bdatRemaining = Int(parts[1])!
            if bdatRemaining == 0 { bdatRemaining = nil }
            return []
        }
        if upper == "RSET" {
            acceptedRecipients = 0
            return ["250 2.0.0 Reset"]
        }
        if upper == "QUIT" { return ["221 2.0.0 Bye"] }
        return ["500 5.5.2 What?"]
    }
}

private struct RunResult {
    var results: [[RecipientResult]] = []
    var failure: SMTPReply?
    var tlsStarted = false
}

/// Drives `session` against `peer` until every message has been tried or the session failed.
private func run(_ peer: inout ScriptedPeer, _ messages: [OutboundMessage], settings: SMTPClientSession.Settings = .init(heloName: "tern.test"))
    -> (RunResult, SMTPClientSession)
{
    var session = SMTPClientSession(settings: settings)
    var result = RunResult()
    var queue = messages
    var replies: [String] = [peer.greeting]
    var parser = SMTPReplyParser()
    var steps = 0
    while !replies.isEmpty && steps < 10_000 && result.failure == nil {
        steps += 1
        var buffer = ByteBuffer(string: replies.removeFirst() + "\r\n")
        guard let reply = try! parser.next(from: &buffer) else { continue }
        var actions = session.receive(reply)
        while !actions.isEmpty {
            let action = actions.removeFirst()
            switch action {
            case .send(let bytes): replies += peer.consume(bytes)
            case .startTLS:
                result.tlsStarted = true
                peer.tls = true
                actions += session.tlsEstablished()
            case .ready, .finished:
                if case .finished(let r) = action { result.results.append(r) }
                if session.phase == .ready {
                    // The whole batch at once, as the delivery engine hands it over.
                    if queue.isEmpty {
                        actions += session.quit()
                    } else {
                        let batch = queue
                        queue = []
                        actions += session.begin(batch)
                    }
                }
            case .failed(let reply): result.failure = reply
            }
        }
    }
    return (result, session)
}

private func message(_ recipients: [String], body: String = "Subject: t\r\n\r\nhello\r\n", from: String = "a@tern.test") -> OutboundMessage {
    OutboundMessage(
        reversePath: from.isEmpty ? .null : try! ReversePath(parsing: "<\(from)>", allowUTF8: true),
        recipients: recipients.map { OutboundRecipient(path: try! ForwardPath(parsing: "<\($0)>", allowUTF8: true)) }, content: Array(body.utf8))
}

@Suite struct ClientSessionTests {
    @Test(arguments: [true, false])
    func deliversSeveralMessagesOnOneConnection(pipelining: Bool) {
        var peer = ScriptedPeer()
        if !pipelining { peer.extensions.removeAll { $0 == "PIPELINING" } }
        let (result, _) = run(&peer, [message(["x@mx.test", "y@mx.test"]), message(["z@mx.test"], body: ".dot\r\nline\r\n")])
        #expect(result.results.count == 2)
        #expect(result.results.flatMap { $0 }.allSatisfy { $0.kind == .delivered })
        #expect(peer.bodies.count == 2)
        // Dot-stuffing undone by the real DATA reader: the peer stored exactly the content.
        #expect(peer.bodies[1] == Array(".dot\r\nline\r\n".utf8))
        #expect(peer.commands.contains("MAIL FROM:<a@tern.test> SIZE=21"))
        #expect(peer.commands.last == "QUIT")
        // Pipelined: MAIL + 2 RCPT + DATA in one write; lock-step: one command per write.
        let firstMail = peer.commands.firstIndex { $0.hasPrefix("MAIL") }!
        #expect(Array(peer.commands[firstMail...(firstMail + 3)]) == ["MAIL FROM:<a@tern.test> SIZE=21", "RCPT TO:<x@mx.test>", "RCPT TO:<y@mx.test>", "DATA"])
        // Pipelined, the second message's commands ride with the first one's content (RFC 2920
        // §3.1): EHLO, MAIL+RCPT+RCPT+DATA, body+MAIL+RCPT+DATA, body, QUIT.
        #expect(peer.writes == (pipelining ? 5 : 11))
    }

    @Test(arguments: [true, false])
    func perRecipientRepliesAreKept(pipelining: Bool) {
        var peer = ScriptedPeer()
        if !pipelining { peer.extensions.removeAll { $0 == "PIPELINING" } }
        peer.rcptReply = { line in
            if line.contains("gone@") { return "550 5.1.1 No such user" }
            if line.contains("later@") { return "451 4.2.0 Try later" }
            return "250 2.1.5 OK"
        }
        let (result, _) = run(&peer, [message(["ok@mx.test", "gone@mx.test", "later@mx.test"])])
        let kinds = result.results[0].map(\.kind)
        #expect(kinds == [.delivered, .rejected, .deferred])
        #expect(result.results[0][1].reply.enhanced == EnhancedStatus(5, 1, 1))
        #expect(result.results[0][0].reply.lines == ["Queued as 1"])
    }

    @Test(arguments: [true, false])
    func allRecipientsRefusedMeansNoBodyAndAResetBeforeTheNextMessage(pipelining: Bool) {
        var peer = ScriptedPeer()
        if !pipelining { peer.extensions.removeAll { $0 == "PIPELINING" } }
        peer.rcptReply = { $0.contains("gone@") ? "550 5.1.1 No such user" : "250 OK" }
        let (result, _) = run(&peer, [message(["gone@mx.test"]), message(["ok@mx.test"])])
        #expect(result.results.map { $0.map(\.kind) } == [[.rejected], [.delivered]])
        #expect(peer.bodies.count == 1)
        let second = peer.commands.lastIndex { $0.hasPrefix("MAIL") }!
        #expect(peer.commands[second - 1] == "RSET")
    }

    @Test(arguments: [true, false])
    func refusedMailFailsEveryRecipient(pipelining: Bool) {
        var peer = ScriptedPeer()
        if !pipelining { peer.extensions.removeAll { $0 == "PIPELINING" } }
        peer.mailReply = { _ in "452 4.3.1 Insufficient storage" }
        let (result, _) = run(&peer, [message(["a@mx.test", "b@mx.test"]), message(["c@mx.test"])])
        #expect(result.results.count == 2)
        #expect(result.results.flatMap { $0 }.allSatisfy { $0.kind == .deferred && $0.reply.code == 452 })
        #expect(peer.bodies.isEmpty)
    }

    @Test func contentFailureDoesNotStopThePipelinedNextMessage() {
        var peer = ScriptedPeer()
        peer.finalReply = { n in n == 1 ? "554 5.7.1 Rejected as spam" : "250 2.0.0 Queued" }
        let (result, _) = run(&peer, [message(["a@mx.test"]), message(["b@mx.test"]), message(["c@mx.test"])])
        #expect(result.results.map { $0.map(\.kind) } == [[.rejected], [.delivered], [.delivered]])
        // No RSET: the reply after the content ends a transaction either way.
        #expect(!peer.commands.contains("RSET"))
        #expect(peer.bodies.count == 3)
    }

    @Test func refusedDataIsFollowedByRSETThenTheNextMessage() {
        var peer = ScriptedPeer()
        peer.dataReply = "451 4.3.0 Not now"
        let (result, _) = run(&peer, [message(["a@mx.test"]), message(["b@mx.test"])])
        #expect(result.results.map { $0.map(\.kind) } == [[.deferred], [.deferred]])
        let mails = peer.commands.enumerated().filter { $0.element.hasPrefix("MAIL") }.map(\.offset)
        #expect(mails.count == 2)
        #expect(peer.commands[mails[1] - 1] == "RSET")
    }

    @Test func aLocallyRefusedMessageInTheMiddleKeepsTheOrder() {
        var peer = ScriptedPeer()
        let big = message(["big@mx.test"], body: String(repeating: "x", count: 100_001))
        let (result, _) = run(&peer, [message(["a@mx.test"]), big, message(["c@mx.test"])])
        #expect(result.results.count == 3)
        #expect(result.results[0][0].kind == .delivered)
        #expect(result.results[1][0].reply.enhanced == EnhancedStatus(5, 3, 4))
        #expect(result.results[2][0].kind == .delivered)
        #expect(peer.bodies.count == 2)
    }

    @Test func closingMidBatchReportsEveryMessage() {
        var session = SMTPClientSession(settings: .init(heloName: "t"))
        _ = session.receive(SMTPReply(220, nil, "hi"))
        _ = session.receive(SMTPReply(250, nil, lines: ["mx", "PIPELINING"]))
        _ = session.begin([message(["a@mx.test"]), message(["b@mx.test"]), message(["c@mx.test"])])
        _ = session.receive(SMTPReply(250, nil, "ok"))  // MAIL
        _ = session.receive(SMTPReply(250, nil, "ok"))  // RCPT
        _ = session.receive(SMTPReply(354, nil, "go"))  // DATA: body 1 + commands of 2 go out
        _ = session.receive(SMTPReply(250, nil, "queued"))  // message 1 done
        let actions = session.connectionClosed()
        let finished = actions.compactMap { action -> [RecipientResult]? in
            if case .finished(let r) = action { return r }
            return nil
        }
        #expect(finished.count == 2)
        #expect(finished.allSatisfy { $0.count == 1 && $0[0].kind == .deferred })
    }

    @Test func finalReplyDecidesForAcceptedRecipients() {
        var peer = ScriptedPeer()
        peer.finalReply = { _ in "554 5.7.1 Spam" }
        let (result, _) = run(&peer, [message(["a@mx.test", "b@mx.test"])])
        #expect(result.results[0].map(\.kind) == [.rejected, .rejected])
        #expect(result.results[0][0].reply.enhanced == EnhancedStatus(5, 7, 1))
    }

    @Test func chunkingSendsBDATWithNormalisedLineEndings() {
        var peer = ScriptedPeer()
        peer.extensions.append("CHUNKING")
        // A stored body with a bare LF and a leading dot: BDAT carries it CRLF-normalised, unstuffed.
        let (result, _) = run(&peer, [message(["a@mx.test"], body: "Subject: t\n\n.x\r\nend")])
        #expect(result.results[0].map(\.kind) == [.delivered])
        #expect(peer.bodies == [Array("Subject: t\r\n\r\n.x\r\nend\r\n".utf8)])
        #expect(peer.commands.contains("BDAT 23 LAST"))
        #expect(!peer.commands.contains("DATA"))
    }

    @Test func startTLSWhenOfferedThenEHLOAgain() {
        var peer = ScriptedPeer()
        peer.extensions.append("STARTTLS")
        peer.extensionsAfterTLS = ["PIPELINING", "8BITMIME"]
        let (result, session) = run(&peer, [message(["a@mx.test"])])
        #expect(result.tlsStarted)
        #expect(session.isTLSActive)
        #expect(peer.commands.prefix(3) == ["EHLO tern.test", "STARTTLS", "EHLO tern.test"])
        // Capabilities come from the second EHLO: no SIZE any more.
        #expect(peer.commands.contains("MAIL FROM:<a@tern.test>"))
        #expect(result.results[0].map(\.kind) == [.delivered])
    }

    @Test func refusedSTARTTLSContinuesInPlaintext() {
        var peer = ScriptedPeer()
        peer.extensions.append("STARTTLS")
        peer.startTLSReply = "454 4.7.0 TLS not available"
        let (result, session) = run(&peer, [message(["a@mx.test"])])
        #expect(!result.tlsStarted && !session.isTLSActive)
        #expect(result.results[0].map(\.kind) == [.delivered])
    }

    /// Issue 12 item 5: with TLS required (verify_certificates), a peer without STARTTLS, one
    /// that answers 454, or one that refuses EHLO gets QUIT and the message is deferred with
    /// 4.7.10; nothing goes out in plaintext.
    @Test func requiredTLSNeverFallsBackToPlaintext() {
        let required = SMTPClientSession.Settings(heloName: "tern.test", requireTLS: true)
        var cases: [(String, ScriptedPeer)] = []
        cases.append(("no STARTTLS", ScriptedPeer()))
        var refused = ScriptedPeer()
        refused.extensions.append("STARTTLS")
        refused.startTLSReply = "454 4.7.0 TLS not available"
        cases.append(("454", refused))
        var noEHLO = ScriptedPeer()
        noEHLO.ehloReply = "502 5.5.1 EHLO not implemented"
        cases.append(("no EHLO", noEHLO))
        for (name, var peer) in cases {
            let (result, _) = run(&peer, [message(["a@mx.test"])], settings: required)
            #expect(result.failure?.code == 451 && result.failure?.enhanced == EnhancedStatus(4, 7, 10), "\(name)")
            #expect(!peer.commands.contains { $0.hasPrefix("MAIL") || $0.hasPrefix("HELO") }, "\(name): \(peer.commands)")
            #expect(peer.commands.last == "QUIT", "\(name)")
            #expect(peer.bodies.isEmpty)
        }
        // A peer that does TLS gets the message.
        var good = ScriptedPeer()
        good.extensions.append("STARTTLS")
        let (result, _) = run(&good, [message(["a@mx.test"])], settings: required)
        #expect(result.tlsStarted && result.results.first?.map(\.kind) == [.delivered])
    }

    @Test func startTLSCanBeTurnedOff() {
        var peer = ScriptedPeer()
        peer.extensions.append("STARTTLS")
        let (result, _) = run(&peer, [message(["a@mx.test"])], settings: .init(heloName: "tern.test", useStartTLS: false))
        #expect(!result.tlsStarted)
        #expect(!peer.commands.contains("STARTTLS"))
    }

    @Test func heloWhenEHLOIsRefused() {
        var peer = ScriptedPeer()
        peer.ehloReply = "502 5.5.1 EHLO not implemented"
        let (result, _) = run(&peer, [message(["a@mx.test"], body: "Subject: caf\u{e9}\r\n\r\nx\r\n"), message(["a@mx.test"])])
        #expect(peer.commands.prefix(2) == ["EHLO tern.test", "HELO tern.test"])
        // An 8-bit message cannot go to a peer without 8BITMIME: refused locally with 5.6.3.
        #expect(result.results[0][0].kind == .rejected)
        #expect(result.results[0][0].reply.enhanced == EnhancedStatus(5, 6, 3))
        #expect(!result.results[0][0].fromRemote)
        #expect(result.results[1][0].kind == .delivered)
        #expect(peer.commands.contains("MAIL FROM:<a@tern.test>"))
    }

    @Test func smtpUTF8AndSizeAreCheckedAgainstThePeer() {
        var peer = ScriptedPeer()
        var utf8 = message(["j\u{f6}rg@mx.test"])
        utf8.requiresSMTPUTF8 = true
        let big = message(["a@mx.test"], body: String(repeating: "x", count: 100_001))
        let (result, _) = run(&peer, [utf8, big])
        #expect(result.results.map { $0[0].reply.enhanced } == [EnhancedStatus(5, 6, 7), EnhancedStatus(5, 3, 4)])
        #expect(!peer.commands.contains { $0.hasPrefix("MAIL") })

        var peer2 = ScriptedPeer()
        peer2.extensions += ["SMTPUTF8"]
        let (result2, _) = run(&peer2, [utf8])
        #expect(result2.results[0][0].kind == .delivered)
        #expect(peer2.commands.contains { $0.hasPrefix("MAIL FROM:<a@tern.test>") && $0.hasSuffix(" SMTPUTF8") })
    }

    @Test func dsnParametersOnlyWhenThePeerOffersDSN() {
        var withDSN = message(["a@mx.test"])
        withDSN.envelopeID = "id+1 x"
        withDSN.dsnReturn = .headers
        withDSN.recipients[0].notify = DSNNotify(failure: true, delay: true)
        withDSN.recipients[0].originalRecipient = OriginalRecipient(parameter: "rfc822;a@mx.test")
        var peer = ScriptedPeer()
        _ = run(&peer, [withDSN])
        #expect(peer.commands.contains("MAIL FROM:<a@tern.test> SIZE=21 RET=HDRS ENVID=id+2B1+20x"))
        #expect(peer.commands.contains("RCPT TO:<a@mx.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@mx.test"))
        var plain = ScriptedPeer()
        plain.extensions.removeAll { $0 == "DSN" }
        _ = run(&plain, [withDSN])
        #expect(plain.commands.contains("RCPT TO:<a@mx.test>"))
    }

    @Test func badGreetingFailsTheSession() {
        var peer = ScriptedPeer()
        peer.greeting = "421 4.3.2 Too busy"
        let (result, _) = run(&peer, [message(["a@mx.test"])])
        #expect(result.failure?.code == 421)
        #expect(result.results.isEmpty)
        #expect(peer.commands.isEmpty)
    }

    @Test func closingMidTransactionDefersWhatIsUnresolved() {
        var session = SMTPClientSession(settings: .init(heloName: "t"))
        _ = session.receive(SMTPReply(220, nil, "hi"))
        _ = session.receive(SMTPReply(250, nil, lines: ["mx", "PIPELINING"]))
        #expect(session.phase == .ready)
        _ = session.begin(message(["a@mx.test", "b@mx.test"]))
        _ = session.receive(SMTPReply(250, nil, "ok"))
        _ = session.receive(SMTPReply(550, EnhancedStatus(5, 1, 1), "no"))
        let actions = session.connectionClosed()
        guard case .finished(let results) = actions.first else {
            Issue.record("no results")
            return
        }
        #expect(results.map(\.kind) == [.rejected, .deferred])
        #expect(results[1].reply.enhanced == EnhancedStatus(4, 4, 2))
    }

    @Test func a421InsteadOfARecipientReplyDefersAndFails() {
        var peer = ScriptedPeer()
        peer.rcptReply = { _ in "421 4.3.2 Shutting down" }
        let (result, _) = run(&peer, [message(["a@mx.test"])])
        #expect(result.results[0].map(\.kind) == [.deferred])
        #expect(result.results[0][0].reply.code == 421)
        #expect(result.failure?.code == 421)
    }

    @Test func lineEndingsProperty() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let content = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                [UInt8(ascii: "a"), 0x0D, 0x0A, UInt8(ascii: ".")].randomElement(using: &generator)!
            }
            let out = DotStuffing.crlf(content)
            // Every CR is followed by LF and every LF preceded by CR; the result ends with CRLF.
            for (i, byte) in out.enumerated() {
                if byte == 0x0D { #expect(i + 1 < out.count && out[i + 1] == 0x0A) }
                if byte == 0x0A { #expect(i > 0 && out[i - 1] == 0x0D) }
            }
            #expect(out.isEmpty || out.suffix(2) == [0x0D, 0x0A])
            #expect(out.filter { $0 != 0x0D && $0 != 0x0A } == content.filter { $0 != 0x0D && $0 != 0x0A })
        }
    }
}

@Suite struct ClientSessionPropertyTests {
    /// Any sequence of replies, whatever a broken or hostile peer sends: the session never traps
    /// and every transaction it finishes has one result per recipient.
    @Test func randomRepliesNeverBreakTheInvariants() {
        var generator = SystemRandomNumberGenerator()
        let codes = [220, 221, 250, 251, 334, 354, 421, 450, 451, 452, 500, 502, 503, 550, 552, 554]
        let extensions = [["PIPELINING"], ["CHUNKING"], ["PIPELINING", "CHUNKING"], [], ["STARTTLS", "PIPELINING", "SIZE 10"]]
        for _ in 0..<3000 {
            var session = SMTPClientSession(settings: .init(heloName: "t"))
            var begun = false
            var finished = 0
            var pending = session.receive(SMTPReply(220, nil, "hi"))
            func absorb(_ actions: [SMTPClientSession.Action]) {
                for action in actions {
                    if case .finished(let results) = action {
                        finished += 1
                        #expect(results.count == 2)
                    }
                    if case .startTLS = action { absorb(session.tlsEstablished()) }
                }
            }
            for step in 0..<40 {
                absorb(pending)
                pending = []
                if session.phase == .ready && !begun {
                    begun = true
                    pending = session.begin([message(["a@x.test", "b@x.test"]), message(["c@x.test", "d@x.test"]), message(["e@x.test", "f@x.test"])])
                    continue
                }
                if session.phase == .closed || (begun && session.phase == .ready) { break }
                let code = codes.randomElement(using: &generator)!
                let lines = step == 0 ? ["mx"] + extensions.randomElement(using: &generator)! : ["text"]
                pending = session.receive(SMTPReply(code, nil, lines: lines))
            }
            absorb(pending)
            if session.phase == .transaction { absorb(session.connectionClosed()) }
            // Every message of a batch is reported exactly once, however the session ended.
            if begun { #expect(finished == 3) } else { #expect(finished == 0) }
        }
    }
}
