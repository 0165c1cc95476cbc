import MailCore
import NIOCore
import Testing

@testable import SMTPProtocol

private func replies(_ text: String, step: Int = 1000) throws -> [SMTPReply] {
    var parser = SMTPReplyParser()
    var buffer = ByteBuffer()
    var out: [SMTPReply] = []
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        buffer.writeBytes(bytes[i..<min(i + step, bytes.count)])
        i += step
        while let reply = try parser.next(from: &buffer) { out.append(reply) }
    }
    return out
}

@Suite struct ReplyParserTests {
    @Test(arguments: [1, 3, 1000])
    func multiLineAndEnhanced(step: Int) throws {
        let got = try replies("220 mx.test ESMTP\r\n250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n550 5.1.1 <x@y>: no such user\r\n", step: step)
        #expect(got.map(\.code) == [220, 250, 550])
        #expect(got[1].lines == ["mx.test", "PIPELINING", "SIZE 1000"])
        #expect(got[2].enhanced == EnhancedStatus(5, 1, 1))
        #expect(got[2].lines == ["<x@y>: no such user"])
    }

    @Test func everyReplyWeEncodeParsesBack() throws {
        for reply in [SMTPReply.relayDenied, .startData, .tooManyRecipients, SMTPReply(250, nil, lines: ["a", "b"]), .cannotVerify] {
            #expect(try replies(reply.description) == [reply])
        }
    }

    @Test(arguments: ["25 x\r\n", "2500 x\r\n", "abc x\r\n", "250-a\r\n251 b\r\n", "250_x\r\n", "999 x\r\n"])
    func malformed(text: String) {
        #expect(throws: SMTPReplyParser.ReplyError.malformed) { try replies(text) }
    }

    @Test func mismatchedEnhancedClassIsText() throws {
        let got = try replies("250 5.1.1 odd\r\n")
        #expect(got[0].enhanced == nil && got[0].lines == ["5.1.1 odd"])
    }

    @Test func tooManyLines() {
        #expect(throws: SMTPReplyParser.ReplyError.tooManyLines) { try replies(String(repeating: "250-x\r\n", count: 200) + "250 x\r\n") }
    }

    @Test func capabilities() throws {
        let ehlo = try replies("250-mx.test greets you\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-AUTH PLAIN login\r\n250 smtputf8\r\n")[0]
        let caps = ServerCapabilities(ehloReply: ehlo)
        #expect(caps.offers("pipelining") && caps.offers("SMTPUTF8") && !caps.offers("STARTTLS"))
        #expect(caps.maximumSize == 35_882_577)
        #expect(caps.authMechanisms == ["PLAIN", "LOGIN"])
    }
}

private func stuffed(_ text: String) -> String {
    var out = ByteBuffer()
    DotStuffing.encode(Array(text.utf8), into: &out)
    return String(buffer: out)
}

@Suite struct DotStufferTests {
    @Test func stuffsAndTerminates() {
        #expect(stuffed("Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n") == "Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n")
        #expect(stuffed("") == ".\r\n")
        #expect(stuffed("no newline at end") == "no newline at end\r\n.\r\n")
        #expect(stuffed(".") == "..\r\n.\r\n")
    }

    /// Outbound smuggling: whatever line endings the stored body holds, the next hop sees CRLF
    /// only, and a "." line can never end the data early.
    @Test(arguments: ["a\n.\nb", "a\r.\rb", "a\r\n.\nb", "a\n.\r\nb", "a\r\r\n.\r\nb"])
    func bareLineEndingsBecomeCRLF(body: String) {
        let wire = stuffed(body)
        #expect(!wire.dropLast(3).contains("\r\n.\r\n"))
        let bytes = Array(wire.utf8)
        for (i, b) in bytes.enumerated() {
            if b == 0x0A { #expect(i > 0 && bytes[i - 1] == 0x0D) }
            if b == 0x0D { #expect(i + 1 < bytes.count && bytes[i + 1] == 0x0A) }
        }
    }

    /// Property: what the stuffer writes, our own DATA reader reads back as the body with every
    /// line ending made CRLF, and nothing is left over.
    @Test func roundTripThroughTheReader() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x0D, 0x0A, UInt8(ascii: "."), UInt8(ascii: "x")]
        for _ in 0..<3000 {
            let body = (0..<Int.random(in: 0..<40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            var wire = ByteBuffer()
            DotStuffing.encode(body, into: &wire)
            var reader = DataBodyReader(maximumSize: 1 << 20)
            let outcome = reader.read(from: &wire)
            #expect(wire.readableBytes == 0)
            var expected: [UInt8] = []
            var i = 0
            while i < body.count {
                if body[i] == 0x0D {
                    expected += [0x0D, 0x0A]
                    if i + 1 < body.count && body[i + 1] == 0x0A { i += 1 }
                } else if body[i] == 0x0A {
                    expected += [0x0D, 0x0A]
                } else {
                    expected.append(body[i])
                }
                i += 1
            }
            if let last = expected.last, last != 0x0A { expected += [0x0D, 0x0A] }
            #expect(outcome == .complete(ByteBuffer(bytes: expected)))
        }
    }
}
