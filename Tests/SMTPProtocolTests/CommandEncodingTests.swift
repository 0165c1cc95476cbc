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
