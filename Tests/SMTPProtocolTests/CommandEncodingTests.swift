import MailCore
import NIOCore
import Testing

@testable import SMTPProtocol

/// Every command encodes to a line the parser reads back to the same value.
@Suite struct CommandEncodingTests {
    static func mailbox(_ text: String) -> MailboxAddress { try! MailboxAddress(parsing: text, allowUTF8: true) }

    static let commands: [SMTPCommand] = [
        .helo("client.example.test"),
        .ehlo("[192.0.2.1]"),
        .mail(.null, MailParameters()),
        .mail(.mailbox(mailbox("alice@example.test")), MailParameters()),
        .mail(
            .mailbox(mailbox("bounce+tag@example.test")),
            MailParameters(size: 12345, body: .eightBitMIME, ret: .headers, envelopeID: "id with spaces+plus=equals", auth: "<>")),
        .mail(.mailbox(mailbox("\"quoted local\"@example.test")), MailParameters(body: .sevenBit, ret: .full, auth: "alice@example.test")),
        .mail(.mailbox(mailbox("jörg@bücher.example")), MailParameters(smtpUTF8: true)),
        .rcpt(.postmaster, RecipientParameters()),
        .rcpt(.mailbox(mailbox("bob@example.test")), RecipientParameters()),
        .rcpt(
            .mailbox(mailbox("bob@example.test")),
            RecipientParameters(
                notify: DSNNotify(success: true, failure: true, delay: true),
                originalRecipient: OriginalRecipient(addressType: "rfc822", address: "Bob+x=y@example.test"))),
        .rcpt(.mailbox(mailbox("carol@[192.0.2.7]")), RecipientParameters(notify: DSNNotify(never: true))),
        .data,
        .bdat(size: 0, last: true),
        .bdat(size: 65536, last: false),
        .rset,
        .noop,
        .quit,
        .vrfy("postmaster"),
        .expn("staff"),
        .help(nil),
        .help("MAIL"),
        .startTLS,
        .auth(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHB3"),
        .auth(mechanism: "SCRAM-SHA-256", initialResponse: nil),
        .auth(mechanism: "PLAIN", initialResponse: "="),
    ]

    @Test(arguments: commands)
    func roundTrip(_ command: SMTPCommand) throws {
        var buffer = ByteBuffer()
        command.encode(into: &buffer)
        let line = Array(buffer.readableBytesView)
        #expect(line.suffix(2) == [0x0D, 0x0A])
        #expect(line.dropLast(2).allSatisfy { $0 != 0x0D && $0 != 0x0A })
        #expect(try SMTPCommandParser.parse(line.dropLast(2)) == command)
    }

    @Test func parametersKeepTheirOrderAndEncoding() {
        let mail = SMTPCommand.mail(
            .mailbox(Self.mailbox("a@example.test")), MailParameters(size: 10, body: .eightBitMIME, smtpUTF8: true, ret: .headers, envelopeID: "x+y"))
        #expect(mail.text == "MAIL FROM:<a@example.test> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x+2By")
        let rcpt = SMTPCommand.rcpt(
            .mailbox(Self.mailbox("b@example.test")),
            RecipientParameters(notify: DSNNotify(failure: true, delay: true), originalRecipient: OriginalRecipient(addressType: "rfc822", address: "b=c@x.test")))
        #expect(rcpt.text == "RCPT TO:<b@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b+3Dc@x.test")
    }
}

/// Random command lines built from awkward pieces: every one the parser accepts must encode to a
/// line that parses back to the same command (and fits the same length limits).
@Suite struct CommandRoundTripPropertyTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let verbs = ["MAIL FROM:", "mail from: ", "RCPT TO:", "rcpt to:", "EHLO ", "HELO ", "VRFY ", "EXPN ", "HELP", "HELP ", "AUTH ",
                        "BDAT ", "NOOP", "NOOP ", "DATA", "RSET", "QUIT", "STARTTLS"]
    static let paths = ["<>", "<a@b.test>", "<\"q u\"@b.test>", "<\"a\\\\b\"@b.test>", "<@r1.test,@r2.test:x@y.test>", "<Postmaster>",
                        "<postmaster@b.test>", "<a@[192.0.2.1]>", "<a@[IPv6:2001:db8::1]>", "<a.b-c+d@sub.b.test>", "<a@b>", "<A@B.TEST>",
                        "<a@b.test", "a@b.test", "<>x", "<a b@c.test>", "<jörg@bücher.test>"]
    static let parameters = ["SIZE=0", "SIZE=123", "SIZE=99999999999999999999", "BODY=7BIT", "BODY=8bitmime", "SMTPUTF8", "RET=hdrs",
                             "RET=FULL", "ENVID=a+2Bb", "ENVID=x=y", "ENVID=", "AUTH=<>", "AUTH=a+40b", "NOTIFY=never", "NOTIFY=SUCCESS,FAILURE",
                             "NOTIFY=DELAY,failure", "ORCPT=rfc822;a+2Bb@c.test", "ORCPT=x-type;abc", "ORCPT=rfc822;", "FOO=bar", "SIZE"]
    static let words = ["client.test", "[192.0.2.1]", "PLAIN", "PLAIN AGFsaWNlAHB3", "SCRAM-SHA-256 =", "topic", "a b", "10", "10 LAST",
                        "0 last", "x", ""]

    @Test func everyAcceptedLineRoundTrips() throws {
        var random = SplitMix(state: 0x5EED)
        var accepted = 0
        for _ in 0..<20_000 {
            var line = Self.verbs.randomElement(using: &random)!
            if line.hasPrefix("MAIL") || line.hasPrefix("mail") || line.hasPrefix("RCPT") || line.hasPrefix("rcpt") {
                line += Self.paths.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 0...3, using: &random) { line += " " + Self.parameters.randomElement(using: &random)! }
            } else {
                line += Self.words.randomElement(using: &random)!
            }
            guard let command = try? SMTPCommandParser.parse(Array(line.utf8)) else { continue }
            accepted += 1
            var buffer = ByteBuffer()
            command.encode(into: &buffer)
            let encoded = Array(buffer.readableBytesView.dropLast(2))
            #expect(throws: Never.self, "\(line) → \(command.text)") { try SMTPCommandParser.parse(encoded) }
            #expect((try? SMTPCommandParser.parse(encoded)) == command, "\(line) → \(command.text)")
        }
        #expect(accepted > 2_000)  // the generator reaches the parser's success paths
    }
}
