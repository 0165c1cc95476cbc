import Foundation
import MailCore
import Testing

@testable import IMAPProtocol

/// ENVELOPE and BODYSTRUCTURE as RFC 9051 §7.5.2 writes them, and FETCH sections.
@Suite struct MessageStructureTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }
    func envelope(_ message: String) -> String {
        var out = IMAPResponseBuffer()
        MessageStructure.envelope(MIMEPart(message: bytes(message)).header, into: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }
    func structure(_ message: String, extensible: Bool = true) -> String {
        var out = IMAPResponseBuffer()
        MessageStructure.body(MIMEPart(message: bytes(message)), extensible: extensible, into: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    @Test func envelopeDefaultsSenderAndReplyToToFrom() {
        let text = envelope("Date: Wed, 17 Jul 1996 02:23:25 -0700\nSubject: IMAP4rev2 WG mtg summary\nFrom: Terry Gray <gray@cac.washington.edu>\nTo: imap@cac.washington.edu\nCc: minutes@CNRI.Reston.VA.US, \"John Klensin\" <KLENSIN@MIT.EDU>\nMessage-Id: <B27397-0100000@cac.washington.edu>\n\nbody")
        #expect(text == "(\"Wed, 17 Jul 1996 02:23:25 -0700\" \"IMAP4rev2 WG mtg summary\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\")")
    }

    @Test func envelopeOfAnEmptyHeaderIsAllNIL() {
        #expect(envelope("\nbody") == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")
    }

    @Test func groupsAndEightBit() {
        let text = envelope("To: Team: a@x.test;\nSubject: caf\u{e9}\n\n")
        #expect(text.contains("((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"x.test\")(NIL NIL NIL NIL))"))
        // Without UTF8=ACCEPT, 8-bit text goes as a literal.
        #expect(text.contains("{5}\r\ncaf\u{e9}"))
    }

    @Test func singlePartBodyStructure() {
        #expect(structure("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nhello\nworld\n") == "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 14 2 NIL NIL NIL NIL)")
        #expect(structure("Subject: x\n\nhi", extensible: false) == "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1)")
    }

    @Test func multipartWithAttachmentAndForward() {
        let message = """
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: text/plain

            see attached
            --b
            Content-Type: application/pdf; name="r.pdf"
            Content-Disposition: attachment; filename="r.pdf"
            Content-Transfer-Encoding: base64
            Content-Language: en, de

            JVBERi0=
            --b
            Content-Type: message/rfc822

            Subject: fwd
            From: a@x.test

            inner
            --b--
            """
        let text = structure(message)
        #expect(text.hasPrefix("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 1 NIL NIL NIL NIL)"))
        #expect(text.contains("(\"application\" \"pdf\" (\"name\" \"r.pdf\") NIL NIL \"base64\" 8 NIL (\"attachment\" (\"filename\" \"r.pdf\")) (\"en\" \"de\") NIL)"))
        #expect(text.contains("(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 37 (NIL \"fwd\" ((NIL NIL \"a\" \"x.test\"))"))
        #expect(text.hasSuffix(" \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)"))
    }

    @Test func sections() {
        let message = bytes("From: a@x.test\nSubject: s\nReceived: one\n  two\n\n--\nbody")
        let root = MIMEPart(message: message)
        func section(_ s: FetchAttribute.Section) -> String? { FetchResponse.section(s, of: message, structure: root).map { String(decoding: $0, as: UTF8.self) } }
        #expect(section(.init(text: .headerFields(["SUBJECT", "RECEIVED"]))) == "Subject: s\r\nReceived: one\r\n  two\r\n\r\n")
        #expect(section(.init(text: .headerFieldsNot(["RECEIVED"]))) == "From: a@x.test\r\nSubject: s\r\n\r\n")
        #expect(section(.init(text: .text)) == "--\r\nbody")
        #expect(section(.init(part: [1])) == "--\r\nbody")
        #expect(section(.init(part: [2])) == nil)
        #expect(section(.init(part: [1], text: .header)) == nil)
    }

    @Test func fetchLineWithPartialAndBinary() throws {
        let message = bytes("Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n")
        var out = IMAPResponseBuffer()
        let fetched = FetchedMessage(sequence: 3, uid: 42, flags: ["\\Seen"], modSeq: 9, internalDate: 0, size: message.count, content: message, structure: MIMEPart(message: message))
        try FetchResponse.write(fetched, attributes: [.flags, .bodySection(.init(text: .text), partial: .init(origin: 4, count: 5), peek: true), .binary(part: [1], partial: nil, peek: true), .binarySize(part: [1])], includeUID: true, out: &out)
        #expect(String(decoding: out.bytes, as: UTF8.self) == "* 3 FETCH (UID 42 FLAGS (\\Seen) BODY[TEXT]<4> {5}\r\nbG8gd BINARY[1] {11}\r\nhello world BINARY.SIZE[1] 11)\r\n")
    }

    /// NUL may travel only in BINARY's literal8 (RFC 3516 §4.2); BODY[] sends it as 0x80.
    @Test func nulGoesAsLiteral8OnlyInBinary() throws {
        let message = bytes("Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nYQBi\n")
        let raw = bytes("Subject: n\n\na\u{0}b")
        var out = IMAPResponseBuffer()
        let encoded = FetchedMessage(sequence: 1, uid: 1, flags: [], modSeq: 1, internalDate: 0, size: message.count, content: message, structure: MIMEPart(message: message))
        try FetchResponse.write(encoded, attributes: [.binary(part: [1], partial: nil, peek: true)], includeUID: false, out: &out)
        #expect(out.bytes == Array("* 1 FETCH (BINARY[1] ~{3}\r\na\u{0}b)\r\n".utf8))
        out.reset()
        let plain = FetchedMessage(sequence: 1, uid: 1, flags: [], modSeq: 1, internalDate: 0, size: raw.count, content: raw, structure: MIMEPart(message: raw))
        try FetchResponse.write(plain, attributes: [.bodySection(.init(text: .text), partial: nil, peek: true), .rfc822], includeUID: false, out: &out)
        #expect(out.bytes == Array("* 1 FETCH (BODY[TEXT] {3}\r\na".utf8) + [0x80] + Array("b RFC822 {17}\r\nSubject: n\r\n\r\na".utf8) + [0x80] + Array("b)\r\n".utf8))
    }

    @Test func unknownTransferEncodingIsRefused() {
        let message = bytes("Content-Transfer-Encoding: x-uuencode\n\nbegin")
        var out = IMAPResponseBuffer()
        let fetched = FetchedMessage(sequence: 1, uid: 1, flags: [], modSeq: 1, internalDate: 0, size: 0, content: message, structure: MIMEPart(message: message))
        #expect(throws: FetchResponse.Failure.unknownTransferEncoding) {
            try FetchResponse.write(fetched, attributes: [.binary(part: [1], partial: nil, peek: true)], includeUID: false, out: &out)
        }
    }

    @Test func stringsChooseTheirForm() {
        var out = IMAPResponseBuffer()
        out.string("plain \"q\" \\")
        out.space()
        out.string("two\r\nlines")
        out.space()
        out.astring(Array("INBOX".utf8))
        out.space()
        out.astring(Array("Sent Items".utf8))
        #expect(String(decoding: out.bytes, as: UTF8.self) == "\"plain \\\"q\\\" \\\\\" {10}\r\ntwo\r\nlines INBOX \"Sent Items\"")
        var utf8 = IMAPResponseBuffer(utf8Quoted: true)
        utf8.string("caf\u{e9}")
        #expect(String(decoding: utf8.bytes, as: UTF8.self) == "\"caf\u{e9}\"")
    }
}
