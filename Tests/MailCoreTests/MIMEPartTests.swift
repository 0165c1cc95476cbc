import Testing

@testable import MailCore

/// The MIME tree: header sections, Content-Type defaults, multipart splitting, message/rfc822,
/// RFC 2231 parameters, part numbering, and bounds on hostile input.
@Suite struct MIMEPartTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }
    func text(_ data: [UInt8], _ range: Range<Int>) -> String { String(decoding: data[range], as: UTF8.self) }

    @Test func singlePartWithDefaults() {
        let message = bytes("Subject: hi\nFrom: a@b\n\nline one\nline two\n")
        let part = MIMEPart(message: message)
        #expect(part.kind == .single && part.type == "text" && part.subtype == "plain")
        #expect(part.contentType.parameter("charset") == Array("us-ascii".utf8))
        #expect(text(message, part.headerRange) == "Subject: hi\r\nFrom: a@b\r\n\r\n")
        #expect(text(message, part.bodyRange) == "line one\r\nline two\r\n")
        #expect(part.bodyLines == 2)
        #expect(part.header.text("subject") == "hi")
    }

    @Test func foldedHeadersUnfold() {
        let part = MIMEPart(message: bytes("Subject: a\n  long\n\tvalue\nX: y\n\nbody"))
        #expect(part.header.text("Subject") == "a  long\tvalue")
        #expect(part.header.fields.map(\.name) == ["Subject", "X"])
    }

    @Test func noEmptyLineMeansNoBody() {
        let message = bytes("Subject: only header\n")
        let part = MIMEPart(message: message)
        #expect(part.bodyRange.isEmpty && part.bodyLines == 0)
    }

    @Test func nestedMultipartAndMessage() {
        let message = bytes(
            """
            Content-Type: multipart/mixed; boundary="outer"

            preamble
            --outer
            Content-Type: multipart/alternative; boundary=inner

            --inner
            Content-Type: text/plain; charset=utf-8

            plain
            --inner
            Content-Type: text/html

            <p>html</p>
            --inner--
            --outer
            Content-Type: message/rfc822

            Subject: inside
            Content-Type: multipart/mixed; boundary=x

            --x

            inner text
            --x
            Content-Type: image/png
            Content-Transfer-Encoding: base64

            iVBORw0K
            --x--
            --outer--
            epilogue
            """)
        let root = MIMEPart(message: message)
        #expect(root.kind == .multipart && root.children.count == 2)
        let alternative = root.children[0]
        #expect(alternative.subtype == "alternative" && alternative.children.count == 2)
        #expect(text(message, alternative.children[0].bodyRange) == "plain")
        #expect(text(message, alternative.children[1].bodyRange) == "<p>html</p>")
        let forwarded = root.children[1]
        #expect(forwarded.kind == .message && forwarded.children.first?.header.text("Subject") == "inside")
        // Part numbers: 1.1 plain, 1.2 html, 2 the message, 2.1 its first part, 2.2 the image.
        #expect(root.part(at: [1, 2]).map { text(message, $0.bodyRange) } == "<p>html</p>")
        #expect(root.part(at: [2, 1]).map { text(message, $0.bodyRange) } == "inner text")
        #expect(root.part(at: [2, 2])?.type == "image")
        #expect(root.part(at: [3]) == nil && root.part(at: [1, 3]) == nil)
        // A part with no header gets text/plain.
        #expect(root.part(at: [2, 1])?.contentType.value == "text/plain")
    }

    @Test func singlePartNumberOneIsTheBody() {
        let message = bytes("Subject: x\n\nhello")
        let root = MIMEPart(message: message)
        #expect(root.part(at: [1]).map { text(message, $0.bodyRange) } == "hello")
        #expect(root.part(at: [2]) == nil)
    }

    @Test func aMessageInsideAMessageAddsALevel() {
        // 1 is message/rfc822 holding B (message/rfc822) holding C (multipart): C's parts are 1.1.1 and 1.1.2.
        let message = bytes("Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\nSubject: B\nContent-Type: message/rfc822\n\nSubject: C\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\nfirst\n--c\n\nsecond\n--c--\n--o--\n")
        let root = MIMEPart(message: message)
        #expect(root.part(at: [1, 1])?.header.text("Subject") == "B")
        #expect(root.part(at: [1, 1, 2]).map { text(message, $0.bodyRange) } == "second")
        #expect(root.part(at: [1, 2]) == nil)
    }

    @Test func missingClosingBoundaryRunsToTheEnd() {
        let message = bytes("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond, truncated")
        let root = MIMEPart(message: message)
        #expect(root.children.count == 2)
        #expect(text(message, root.children[1].bodyRange) == "second, truncated")
    }

    @Test func digestDefaultsToMessage() {
        let message = bytes("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody\n--d--\n")
        let root = MIMEPart(message: message)
        #expect(root.children.first?.contentType.value == "message/rfc822")
        #expect(root.children.first?.kind == .message)
    }

    @Test func rfc2231ParametersJoin() {
        let value = MIMEFieldValue(parsing: Array("attachment; filename*0*=utf-8''caf%C3%A9; filename*1*=%20menu.pdf; size=10 (comment)".utf8))
        #expect(value.value == "attachment")
        #expect(value.parameter("filename*") == Array("utf-8''caf%C3%A9%20menu.pdf".utf8))
        #expect(value.parameter("size") == Array("10".utf8))
        let plain = MIMEFieldValue(parsing: Array("text/plain; name*0=\"a b\"; name*1=c; charset=\"us\\\"ascii\"".utf8))
        #expect(plain.parameter("name") == Array("a bc".utf8))
        #expect(plain.parameter("charset") == Array("us\"ascii".utf8))
        #expect(MIMEFieldValue(parsing: Array("Text/HTML ; CHARSET=UTF-8".utf8)).value == "text/html")
    }

    @Test func brokenContentTypeIsTheDefault() {
        for header in ["Content-Type: text", "Content-Type: /plain", "Content-Type: ;;;", "Content-Type:"] {
            let part = MIMEPart(message: bytes("\(header)\n\nx"))
            #expect(part.contentType.value == "text/plain", "\(header)")
        }
    }

    @Test func depthAndPartsAreBounded() {
        var message = ""
        for level in 0..<100 { message += "Content-Type: multipart/mixed; boundary=b\(level)\n\n--b\(level)\n" }
        message += "\nleaf\n"
        let root = MIMEPart(message: bytes(message))
        var depth = 0
        var current = root
        while let child = current.children.first {
            depth += 1
            current = child
        }
        #expect(depth == MIMEPart.maximumDepth)
        let many = "Content-Type: multipart/mixed; boundary=m\n\n" + String(repeating: "--m\n\nx\n", count: 5000) + "--m--\n"
        #expect(MIMEPart(message: bytes(many)).children.count < MIMEPart.maximumParts)
    }

    @Test func addressLists() {
        func parse(_ text: String) -> [AddressListEntry] { AddressListEntry.parse(Array(text.utf8)) }
        func b(_ text: String) -> [UInt8] { Array(text.utf8) }
        #expect(parse("\"Doe, John\" <john@example.com>, jane@example.org (Jane)") == [
            .mailbox(name: b("Doe, John"), route: nil, local: b("john"), domain: b("example.com")),
            .mailbox(name: nil, route: nil, local: b("jane"), domain: b("example.org")),
        ])
        #expect(parse("J. R. Smith <jr@x.test>") == [.mailbox(name: b("J. R. Smith"), route: nil, local: b("jr"), domain: b("x.test"))])
        #expect(parse("Team: a@x.test, B <b@x.test>;, c@y.test") == [
            .groupStart(name: b("Team")), .mailbox(name: nil, route: nil, local: b("a"), domain: b("x.test")),
            .mailbox(name: b("B"), route: nil, local: b("b"), domain: b("x.test")), .groupEnd,
            .mailbox(name: nil, route: nil, local: b("c"), domain: b("y.test")),
        ])
        #expect(parse("undisclosed-recipients:;") == [.groupStart(name: b("undisclosed-recipients")), .groupEnd])
        #expect(parse("<@route.test:user@x.test>") == [.mailbox(name: nil, route: b("@route.test"), local: b("user"), domain: b("x.test"))])
        #expect(parse("=?UTF-8?B?w6k=?= <e@x.test>") == [.mailbox(name: b("=?UTF-8?B?w6k=?="), route: nil, local: b("e"), domain: b("x.test"))])
        #expect(parse("\"a b\"@x.test") == [.mailbox(name: nil, route: nil, local: b("\"a b\""), domain: b("x.test"))])
        #expect(parse("") == [])
    }

    @Test func transferDecoding() {
        #expect(TransferDecoding.base64(Array("aGVs\r\nbG8=".utf8)) == Array("hello".utf8))
        #expect(TransferDecoding.quotedPrintable(Array("caf=C3=A9 =\r\nau lait  \r\nx=3".utf8)) == Array("café au lait\r\nx=3".utf8))
        #expect(TransferDecoding.decode([1, 2], encoding: "x-uuencode") == nil)
        #expect(EncodedWords.decode("=?UTF-8?Q?caf=C3=A9?= =?ISO-8859-1?B?6Q==?= x") == "caféé x")
        #expect(EncodedWords.decode("plain =?bogus") == "plain =?bogus")
    }

    @Test func messageDates() {
        #expect(MessageDate.parse("Tue, 1 Jul 2003 10:52:37 +0200") == 1_057_049_557)
        #expect(MessageDate.parse("1 Jul 03 10:52 GMT") == 1_057_056_720)
        #expect(MessageDate.parse("Thu, 13 Feb 1969 23:32:54 -0330 (Newfoundland Time)") == -27_723_426)
        #expect(MessageDate.parse("garbage") == nil)
    }
}
