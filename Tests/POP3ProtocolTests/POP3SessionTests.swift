import Foundation
import MailCore
import Testing

@testable import POP3Protocol

func text(_ actions: [POP3Session.Action]) -> String {
    actions.map {
        switch $0 {
        case .send(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return "<\($0)>"
        }
    }.joined()
}

func line(_ s: String) -> [UInt8] { Array(s.utf8) }

struct Driver {
    var session: POP3Session

    init(tls: Bool = true, plaintext: Bool = false, tlsAvailable: Bool = true) {
        session = POP3Session(
            configuration: .init(hostname: "mx.test", tlsActive: tls, tlsAvailable: tlsAvailable, allowPlaintext: plaintext, mechanisms: ["PLAIN", "LOGIN"]))
    }

    mutating func say(_ command: String) -> String { text(session.receive(line: line(command))) }

    /// Logs in as alice with two messages.
    mutating func login(_ entries: [POP3Session.Entry] = [.init(uid: 7, size: 120, uniqueID: "100-7"), .init(uid: 9, size: 30, uniqueID: "100-9")]) {
        _ = say("USER alice@example.test")
        #expect(session.receive(line: line("PASS pass word")) == [.checkPassword(user: "alice@example.test", password: "pass word")])
        #expect(session.authenticationFinished(user: "alice@example.test") == [.openMaildrop(user: "alice@example.test")])
        #expect(text(session.maildropOpened(entries)) == "+OK Maildrop has 2 messages (150 octets)\r\n")
    }
}

@Suite struct POP3SessionTests {
    @Test func authorizationCommands() {
        var d = Driver()
        #expect(text(d.session.greeting()).hasPrefix("+OK mx.test"))
        #expect(d.say("STAT") == "-ERR Unknown command or not allowed before login\r\n")
        #expect(d.say("PASS x") == "-ERR USER first\r\n")
        #expect(d.say("APOP alice 0123") == "-ERR APOP is not supported\r\n")
        #expect(d.say("USER alice") == "+OK Send PASS\r\n")
        #expect(d.session.receive(line: line("PASS s3cret")) == [.checkPassword(user: "alice", password: "s3cret")])
        #expect(text(d.session.authenticationFinished(user: nil)) == "-ERR [AUTH] Authentication failed\r\n")
        #expect(d.say("PASS again") == "-ERR USER first\r\n")
    }

    @Test func plaintextIsRefusedBeforeTLSAndCAPASaysSo() {
        var d = Driver(tls: false)
        let capa = d.say("CAPA")
        #expect(capa.contains("STLS\r\n") && !capa.contains("USER\r\n") && !capa.contains("SASL"))
        #expect(d.say("USER alice").hasPrefix("-ERR [AUTH]"))
        #expect(d.say("AUTH PLAIN").hasPrefix("-ERR [AUTH]"))
        #expect(d.session.receive(line: line("STLS")) == [.send(line("+OK Begin TLS negotiation\r\n")), .startTLS])
        #expect(d.say("STLS") == "-ERR STLS not available\r\n")
        let after = d.say("CAPA")
        #expect(after.contains("USER\r\n") && after.contains("SASL PLAIN LOGIN\r\n") && !after.contains("STLS"))
        var open = Driver(tls: false, plaintext: true)
        #expect(open.say("USER alice") == "+OK Send PASS\r\n")
    }

    @Test func transactionCommands() {
        var d = Driver()
        d.login()
        #expect(d.say("STAT") == "+OK 2 150\r\n")
        #expect(d.say("LIST") == "+OK 2 messages\r\n1 120\r\n2 30\r\n.\r\n")
        #expect(d.say("LIST 2") == "+OK 2 30\r\n")
        #expect(d.say("LIST 3") == "-ERR No such message\r\n")
        #expect(d.say("LIST x") == "-ERR No such message\r\n")
        #expect(d.say("UIDL") == "+OK 2 messages\r\n1 100-7\r\n2 100-9\r\n.\r\n")
        #expect(d.say("DELE 1") == "+OK Message 1 deleted\r\n")
        #expect(d.say("DELE 1") == "-ERR Message 1 already deleted\r\n")
        #expect(d.say("RETR 1") == "-ERR Message 1 already deleted\r\n")
        #expect(d.say("STAT") == "+OK 1 30\r\n")
        #expect(d.say("LIST") == "+OK 1 messages\r\n2 30\r\n.\r\n")
        #expect(d.say("RSET").hasPrefix("+OK"))
        #expect(d.say("STAT") == "+OK 2 150\r\n")
        #expect(d.say("NOOP") == "+OK \r\n")
        #expect(d.say("USER bob") == "-ERR Already logged in\r\n")
        #expect(d.say("DELE 2") == "+OK Message 2 deleted\r\n")
        #expect(d.session.receive(line: line("QUIT")) == [.update(deleting: [9])])
        #expect(text(d.session.updateFinished(true)) == "+OK mx.test signing off\r\n<close>")
    }

    @Test func retrieveAndTopAreDotStuffed() {
        var d = Driver()
        d.login()
        #expect(d.session.receive(line: line("RETR 2")) == [.retrieve(uid: 9)])
        let content = line("Subject: x\r\n\r\n.hidden\r\nline two\r\n")
        #expect(text(d.session.retrieved(content)) == "+OK \(content.count) octets\r\nSubject: x\r\n\r\n..hidden\r\nline two\r\n.\r\n")
        #expect(d.session.receive(line: line("TOP 1 1")) == [.retrieve(uid: 7)])
        #expect(text(d.session.retrieved(line("A: 1\r\nB: 2\r\n\r\nfirst\r\nsecond\r\n"))) == "+OK Top of message follows\r\nA: 1\r\nB: 2\r\n\r\nfirst\r\n.\r\n")
        #expect(d.session.receive(line: line("TOP 1 0")) == [.retrieve(uid: 7)])
        #expect(text(d.session.retrieved(line("A: 1\r\n\r\nbody\r\n"))) == "+OK Top of message follows\r\nA: 1\r\n\r\n.\r\n")
        #expect(d.say("TOP 1") == "-ERR TOP takes 2 arguments\r\n")
        #expect(d.say("TOP 1 -1") == "-ERR Invalid line count\r\n")
    }

    @Test func maildropInUseAndQuitWithoutLogin() {
        var d = Driver()
        _ = d.say("USER alice")
        _ = d.session.receive(line: line("PASS x"))
        _ = d.session.authenticationFinished(user: "alice")
        #expect(text(d.session.maildropOpened(nil)) == "-ERR [IN-USE] Maildrop is in use by another session\r\n")
        #expect(d.session.receive(line: line("QUIT")) == [.send(line("+OK mx.test signing off\r\n")), .close])
    }

    @Test func saslExchange() {
        var d = Driver()
        // AUTH PLAIN with an initial response; "=" is an empty one.
        #expect(d.session.receive(line: line("AUTH PLAIN AGFsaWNlAHB3")) == [.saslStart(mechanism: "PLAIN", initialResponse: Array("\0alice\0pw".utf8))])
        _ = d.session.authenticationFinished(user: nil)
        #expect(d.session.receive(line: line("AUTH LOGIN")) == [.saslStart(mechanism: "LOGIN", initialResponse: nil)])
        #expect(text(d.session.saslChallenge(line("Username:"))) == "+ VXNlcm5hbWU6\r\n")
        #expect(d.session.receive(line: line("YWxpY2U=")) == [.saslResponse(line("alice"))])
        _ = d.session.saslChallenge(line("Password:"))
        // Cancelling counts as a failed login: the driver hears of it before the reply.
        #expect(d.session.receive(line: line("*")) == [.authenticationAbandoned, .send(line("-ERR [AUTH] Authentication cancelled\r\n"))])
        _ = d.session.receive(line: line("AUTH LOGIN"))
        _ = d.session.saslChallenge(line("Username:"))
        #expect(d.session.receive(line: line("!!!")) == [.authenticationAbandoned, .send(line("-ERR [AUTH] Invalid base64 in the response\r\n"))])
        #expect(d.say("AUTH CRAM-MD5") == "-ERR Unsupported mechanism CRAM-MD5\r\n")
        #expect(d.say("AUTH PLAIN !!!") == "-ERR [AUTH] Invalid base64 in the initial response\r\n")
        #expect(d.say("AUTH").hasPrefix("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n"))
    }

    @Test func longLinesAndGarbageNeverCrash() {
        var d = Driver()
        #expect(d.say(String(repeating: "A", count: 300)) == "-ERR Command line too long\r\n")
        var rng = SystemRandomNumberGenerator()
        let words = ["USER", "PASS", "STAT", "LIST", "RETR", "DELE", "TOP", "UIDL", "RSET", "NOOP", "AUTH", "CAPA", "STLS", "0", "1", "2", "99", "-1", "x", " ", "PLAIN", "="]
        for _ in 0..<2000 {
            var d = Driver(tls: Bool.random(using: &rng), plaintext: true)
            d.login()
            for _ in 0..<6 {
                let command = (0..<Int.random(in: 1...3, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
                for action in d.session.receive(line: line(command)) {
                    switch action {
                    case .retrieve: _ = d.session.retrieved(Bool.random(using: &rng) ? nil : line("a\r\n.b\r\n"))
                    case .checkPassword, .saslStart, .saslResponse: _ = d.session.authenticationFinished(user: nil)
                    case .update: _ = d.session.updateFinished(Bool.random(using: &rng))
                    default: break
                    }
                }
            }
        }
    }
}

@Suite struct MultilineBodyTests {
    @Test func dotStuffingAndLineEndings() {
        #expect(DotStuffing.stuffed(line(".a\r\nb\r\n..c\r\n")) == line("..a\r\nb\r\n...c\r\n.\r\n"))
        #expect(DotStuffing.stuffed(line("no newline")) == line("no newline\r\n.\r\n"))
        #expect(DotStuffing.stuffed(line("bare\nlf\n.x")) == line("bare\r\nlf\r\n..x\r\n.\r\n"))
        #expect(DotStuffing.stuffed([]) == line(".\r\n"))
    }

    @Test func unstuffingGivesTheContentBack() {
        // Property: a client that removes the terminator and one leading dot per line gets the
        // content back (CRLF content).
        var rng = SystemRandomNumberGenerator()
        let pieces = [".", "..", "a", " ", "\r\n", "x.y", "."]
        for _ in 0..<500 {
            var content = (0..<Int.random(in: 0..<12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            if !content.isEmpty && !content.hasSuffix("\r\n") { content += "\r\n" }
            let bytes = DotStuffing.stuffed(line(content))
            let wire = String(decoding: bytes, as: UTF8.self)
            #expect(wire.hasSuffix("\r\n.\r\n") || wire == ".\r\n")
            let body = String(decoding: bytes.dropLast(3), as: UTF8.self)
            let lines = body.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }
            #expect(lines.joined(separator: "\r\n") == content)
        }
    }
}
