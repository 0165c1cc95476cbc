import Foundation
import MailCore
import Testing

/// MIME building (issue 13's messages from the HTTP API) against golden files on disk
/// (`Tests/Golden/mime`; `TERN_UPDATE_GOLDEN=1` rewrites them), and the encoders' rules.
@Suite struct ComposedMessageTests {
    func message(_ contents: [ComposedMessage.Content], subject: String = "Your order") -> ComposedMessage {
        ComposedMessage(
            from: .init(email: "shop@example.test", name: "The Shop"), to: [.init(email: "bob@example.net")], subject: subject,
            contents: contents, messageID: "<m1@example.test>", date: "Mon, 30 Nov 2026 10:00:00 +0000")
    }

    func check(_ name: String, _ message: ComposedMessage) throws {
        let rendered = message.render { "b\($0)-tern-boundary" }
        let text = try GoldenFile.check(rendered, directory: "mime", name: name)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 || $0.hasPrefix("<") })
        #expect(rendered.allSatisfy { $0 < 0x80 }, "7-bit clean: every non-ASCII byte is encoded")
    }

    @Test func plainText() throws {
        try check("plain.eml", message([.init(type: "text/plain", value: "Hello Bob,\nyour order has shipped.\n")]))
    }

    @Test func textAndHTMLWithUnicode() throws {
        var m = message(
            [
                .init(type: "text/plain", value: "Grüße, Bob — €10 off = a deal\r\n" + String(repeating: "long line ", count: 12)),
                .init(type: "text/html", value: "<p>Grüße, <b>Bob</b></p>"),
            ], subject: "Ihre Bestellung ist unterwegs — Grüße aus München, mit einem sehr langen Betreff")
        m.cc = [.init(email: "carol@example.net", name: "Carol \"CJ\" Jones"), .init(email: "dan@example.net", name: "Dänen")]
        m.replyTo = [.init(email: "help@example.test")]
        m.headers = [("X-Campaign", "autumn")]
        try check("alternative-unicode.eml", m)
    }

    @Test func inlineImageAndAttachment() throws {
        var m = message([
            .init(type: "text/plain", value: "See the logo."), .init(type: "text/html", value: "<img src=\"cid:logo\">"),
        ])
        m.attachments = [
            .init(content: Array(repeating: 0x89, count: 100), filename: "logo.png", type: "image/png", disposition: .inline, contentID: "logo"),
            .init(content: Array("a,b\n1,2\n".utf8), filename: "Rechnung März.csv", type: "text/csv"),
        ]
        try check("mixed-related.eml", m)
    }

    @Test func quotedPrintableRules() {
        func qp(_ text: String) -> String { String(decoding: ContentTransferEncoding.quotedPrintable.encode(Array(text.utf8)), as: UTF8.self) }
        #expect(qp("a=b") == "a=3Db\r\n")
        #expect(qp("trailing space \r\nnext") == "trailing space=20\r\nnext\r\n")
        #expect(qp("é") == "=C3=A9\r\n")
        let long = qp(String(repeating: "x", count: 200))
        #expect(long.components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(long.replacingOccurrences(of: "=\r\n", with: "") == String(repeating: "x", count: 200) + "\r\n")
        // An escape is never split by a soft break.
        let escapes = qp(String(repeating: "é", count: 40))
        #expect(escapes.components(separatedBy: "\r\n").allSatisfy { !$0.hasSuffix("=C") && $0.count <= 76 })
    }

    @Test func encodingChoiceAndLineBreaks() {
        #expect(ContentTransferEncoding.forText(Array("plain\r\ntext".utf8)) == .sevenBit)
        #expect(ContentTransferEncoding.forText(Array("caf\u{e9}".utf8)) == .quotedPrintable)
        #expect(ContentTransferEncoding.forText(Array(String(repeating: "x", count: 999).utf8)) == .quotedPrintable)
        #expect(ContentTransferEncoding.canonicalLineBreaks(Array("a\nb\rc\r\nd".utf8)) == Array("a\r\nb\r\nc\r\nd".utf8))
    }

    @Test func encodedWordsHoldWholeCharactersAndStayShort() {
        let words = EncodedWords.words(String(repeating: "日本語", count: 20))
        #expect(words.count > 1)
        for word in words {
            #expect(word.count <= 75)
            let inner = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            let decoded = try! #require(Base64Text.decode(String(inner)))
            #expect(String(bytes: decoded, encoding: .utf8) != nil, "each word decodes to whole characters")
        }
        #expect(EncodedWords.unstructured("Plain subject") == "Plain subject")
        #expect(EncodedWords.unstructured("looks =?like?= a word").hasPrefix("=?UTF-8?B?"))
        #expect(EncodedWords.displayName("Carol Jones") == "Carol Jones")
        #expect(EncodedWords.displayName("Jones, Carol") == "\"Jones, Carol\"")
        #expect(EncodedWords.displayName("Dänen").hasPrefix("=?UTF-8?B?"))
    }
}
