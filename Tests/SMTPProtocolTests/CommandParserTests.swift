import MailCore
import Testing

@testable import SMTPProtocol

private func parse(_ line: String) throws(SMTPCommandError) -> SMTPCommand {
    try SMTPCommandParser.parse(Array(line.utf8))
}

@Suite struct CommandParserTests {
    @Test func simpleCommands() throws {
        #expect(try parse("EHLO client.example") == .ehlo("client.example"))
        #expect(try parse("ehlo [192.0.2.1]") == .ehlo("[192.0.2.1]"))
        #expect(try parse("HELO client") == .helo("client"))
        #expect(try parse("DATA") == .data)
        #expect(try parse("RSET") == .rset)
        #expect(try parse("NOOP") == .noop)
        #expect(try parse("NOOP anything at all") == .noop)
        #expect(try parse("QUIT") == .quit)
        #expect(try parse("VRFY bob") == .vrfy("bob"))
        #expect(try parse("EXPN list") == .expn("list"))
        #expect(try parse("HELP") == .help(nil))
        #expect(try parse("HELP MAIL") == .help("MAIL"))
        #expect(try parse("STARTTLS") == .startTLS)
        #expect(try parse("starttls") == .startTLS)
        #expect(try parse("AUTH PLAIN dGVzdA==") == .auth(mechanism: "PLAIN", initialResponse: "dGVzdA=="))
        #expect(try parse("AUTH login") == .auth(mechanism: "LOGIN", initialResponse: nil))
    }

    @Test(arguments: [
        ("EHLO", SMTPCommandError.syntax("EHLO hostname")),
        ("HELO ", .syntax("HELO hostname")),
        ("EHLO a b", .syntax("EHLO hostname")),
        ("DATA now", .syntax("DATA takes no arguments")),
        ("RSET x", .syntax("RSET takes no arguments")),
        ("QUIT now", .syntax("QUIT takes no arguments")),
        ("STARTTLS x", .syntax("STARTTLS takes no arguments")),
        ("VRFY", .syntax("VRFY string")),
        ("FOO bar", .unrecognized),
        ("", .unrecognized),
        ("MAIL", .syntax("MAIL FROM:<address>")),
        ("MAIL TO:<a@b.c>", .syntax("MAIL FROM:<address>")),
        ("RCPT FROM:<a@b.c>", .syntax("RCPT TO:<address>")),
        ("BDAT", .syntax("BDAT chunk-size [LAST]")),
        ("BDAT -1", .syntax("BDAT chunk-size [LAST]")),
        ("BDAT 10 FIRST", .syntax("BDAT chunk-size [LAST]")),
        ("AUTH", .syntax("AUTH mechanism [initial-response]")),
    ])
    func refusals(line: String, expected: SMTPCommandError) {
        #expect(throws: expected) { try parse(line) }
    }

    @Test func mailWithEveryParameter() throws {
        let command = try parse("MAIL FROM:<bob@example.com> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=abc+2Bdef SMTPUTF8 AUTH=<>")
        guard case .mail(let path, let p) = command else {
            Issue.record("not MAIL")
            return
        }
        #expect(path.description == "bob@example.com")
        #expect(p.size == 1000)
        #expect(p.body == .eightBitMIME)
        #expect(p.ret == .headers)
        #expect(p.envelopeID == "abc+def")
        #expect(p.smtpUTF8)
        #expect(p.auth == "<>")
    }

    @Test func mailNullPathAndSpaceAfterColon() throws {
        #expect(try parse("MAIL FROM:<>") == .mail(.null, MailParameters()))
        #expect(try parse("mail from: <>") == .mail(.null, MailParameters()))
    }

    @Test(arguments: [
        ("MAIL FROM:<a@b.c> SIZE=abc", SMTPCommandError.invalidParameter("SIZE")),
        ("MAIL FROM:<a@b.c> SIZE=", .invalidParameter("SIZE")),
        ("MAIL FROM:<a@b.c> BODY=9BIT", .invalidParameter("BODY")),
        ("MAIL FROM:<a@b.c> BODY=BINARYMIME", .invalidParameter("BODY")),
        ("MAIL FROM:<a@b.c> RET=ALL", .invalidParameter("RET")),
        ("MAIL FROM:<a@b.c> ENVID=a=b", .invalidParameter("ENVID")),
        ("MAIL FROM:<a@b.c> SMTPUTF8=yes", .invalidParameter("SMTPUTF8")),
        ("MAIL FROM:<a@b.c> SIZE=1 SIZE=2", .invalidParameter("SIZE")),
        ("MAIL FROM:<a@b.c> FOO=bar", .unknownParameter("FOO")),
        ("MAIL FROM:<a@b.c>SIZE=1", .syntax("parameters must follow the path after a space")),
        ("RCPT TO:<a@b.c> NOTIFY=SOMETIMES", .invalidParameter("NOTIFY")),
        ("RCPT TO:<a@b.c> ORCPT=bob", .invalidParameter("ORCPT")),
        ("RCPT TO:<a@b.c> XYZ", .unknownParameter("XYZ")),
        ("MAIL FROM:<a@b@c.d>", .invalidSender(.invalidDomain)),
        ("MAIL FROM:<josé@b.c>", .invalidSender(.utf8NotAllowed)),
        ("MAIL FROM:a@b.c", .invalidSender(.missingAngleBrackets)),
        ("RCPT TO:<@bad route:a@b.c>", .invalidRecipient(.invalidRoute)),
        ("RCPT TO:<>", .invalidRecipient(.emptyLocalPart)),
    ])
    func parameterRefusals(line: String, expected: SMTPCommandError) {
        #expect(throws: expected) { try parse(line) }
    }

    @Test func rcptParameters() throws {
        let command = try parse("RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com")
        guard case .rcpt(let path, let p) = command else {
            Issue.record("not RCPT")
            return
        }
        #expect(path.description == "bob@example.com")
        #expect(p.notify == DSNNotify(success: true, failure: true))
        #expect(p.originalRecipient == OriginalRecipient(addressType: "rfc822", address: "bob@example.com"))
        #expect(try parse("RCPT TO:<Postmaster>") == .rcpt(.postmaster, RecipientParameters()))
    }

    @Test func quotedLocalPartWithSpaceAndBracket() throws {
        guard case .rcpt(let path, _) = try parse("RCPT TO:<\"a >b\"@example.com>") else {
            Issue.record("not RCPT")
            return
        }
        #expect(path.mailbox?.localPart == "\"a >b\"")
    }

    @Test func bdat() throws {
        #expect(try parse("BDAT 0 LAST") == .bdat(size: 0, last: true))
        #expect(try parse("BDAT 1024") == .bdat(size: 1024, last: false))
        #expect(try parse("bdat 5 last") == .bdat(size: 5, last: true))
    }

    // RFC 5321 §4.5.3.1.4: 512 octets including CRLF.
    @Test func commandLengthLimit() throws {
        let longest = "NOOP " + String(repeating: "x", count: 510 - 5)
        #expect(throws: Never.self) { try parse(longest) }
        #expect(throws: SMTPCommandError.lineTooLong) { try parse(longest + "x") }
        // MAIL and RCPT may carry extension parameters beyond that (RFC 1870, RFC 3461).
        let orcpt = "RCPT TO:<a@b.c> ORCPT=rfc822;" + String(repeating: "y", count: 480) + "@b.c"
        #expect(throws: Never.self) { try parse(orcpt) }
    }

    @Test(arguments: ["NOOP \u{0}", "MAIL FROM:<a@b.c>\r", "HELO a\nb"])
    func controlCharactersInLine(line: String) {
        #expect(throws: SMTPCommandError.syntax("control characters in command")) { try parse(line) }
    }

    @Test func everyErrorMapsToItsReply() {
        #expect(SMTPCommandError.unrecognized.reply.code == 500)
        #expect(SMTPCommandError.lineTooLong.reply.code == 500)
        #expect(SMTPCommandError.syntax("x").reply.code == 501)
        #expect(SMTPCommandError.unknownParameter("X").reply.code == 555)
        #expect(SMTPCommandError.invalidSender(.invalidDomain).reply.enhanced == EnhancedStatus(5, 1, 7))
        #expect(SMTPCommandError.invalidRecipient(.invalidDomain).reply.enhanced == EnhancedStatus(5, 1, 3))
        #expect(SMTPCommandError.invalidRecipient(.utf8NotAllowed).reply == SMTPReply(553, EnhancedStatus(5, 6, 7), "Non-ASCII address requires SMTPUTF8"))
    }

    /// Property: no input makes the parser crash, and every refusal maps to a 5xx reply.
    @Test func randomInputNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        let verbs = ["MAIL FROM:", "RCPT TO:", "EHLO ", "BDAT ", "AUTH ", "", "DATA"]
        for _ in 0..<20_000 {
            var bytes = Array(verbs.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 0..<80, using: &rng) {
                bytes.append(UInt8.random(in: 0...255, using: &rng))
            }
            do {
                _ = try SMTPCommandParser.parse(bytes)
            } catch {
                #expect(error.reply.code >= 500)
            }
        }
    }
}

@Suite struct ReplyEncodingTests {
    @Test func singleLine() {
        #expect(SMTPReply(250, EnhancedStatus(2, 1, 0), "Sender OK").description == "250 2.1.0 Sender OK\r\n")
        #expect(SMTPReply(220, nil, "mx ESMTP").description == "220 mx ESMTP\r\n")
    }

    @Test func multiLine() {
        let reply = SMTPReply(250, nil, lines: ["mx greets you", "PIPELINING", "SIZE 10"])
        #expect(reply.description == "250-mx greets you\r\n250-PIPELINING\r\n250 SIZE 10\r\n")
        let enhanced = SMTPReply(550, EnhancedStatus(5, 7, 1), lines: ["one", "two"])
        #expect(enhanced.description == "550-5.7.1 one\r\n550 5.7.1 two\r\n")
    }

    @Test func lineBreaksInTextCannotForgeReplies() {
        let reply = SMTPReply(250, nil, "hello\r\n250 fake")
        #expect(reply.description == "250 hello  250 fake\r\n")
    }

    @Test func singleLineForm() {
        #expect(SMTPReply.relayDenied.singleLine == "550 5.7.1 Relay access denied")
    }
}
