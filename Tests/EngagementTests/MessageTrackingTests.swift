import Foundation
import MailCore
import Testing

@testable import Engagement

/// Tracking applied to whole messages: parts decoded and encoded again, attachments and
/// forwarded messages untouched, the pixel once, line lengths kept legal.
@Suite struct MessageTrackingTests {
    func tracking(text: Bool = false) -> MessageTracking {
        MessageTracking(
            html: HTMLLinkRewriter(trackingURL: { index, _ in "https://t.test/c/\(index)" }, pixel: "<img src=\"https://t.test/o/1\">"),
            trackText: text)
    }

    func crlf(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    static let attachment = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])

    var message: [UInt8] {
        crlf("""
            From: a@example.test
            To: b@example.test
            Subject: mixed
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="outer"

            --outer
            Content-Type: multipart/alternative; boundary="alt"

            --alt
            Content-Type: text/plain; charset=utf-8

            Read https://example.test/plain.
            --alt
            Content-Type: text/html; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            <html><body><a href=3D"https://example.test/q?a=3D1">q</a> Gr=C3=BC=C3=9Fe</body></html>
            --alt--

            --outer
            Content-Type: text/html; name="page.html"
            Content-Disposition: attachment; filename="page.html"

            <a href="https://example.test/attached">never</a>
            --outer
            Content-Type: image/png
            Content-Transfer-Encoding: base64
            Content-ID: <logo>

            \(Self.attachment)
            --outer
            Content-Type: message/rfc822

            Subject: forwarded
            Content-Type: text/html

            <a href="https://example.test/forwarded">f</a>
            --outer--

            """)
    }

    @Test func htmlRewrittenAttachmentsUntouched() throws {
        let original = message
        let (out, links) = tracking().apply(to: original)
        #expect(links.map(\.url) == ["https://example.test/q?a=1"])
        let root = MIMEPart(message: out)
        let html = try #require(root.part(at: [1, 2]))
        let decoded = try #require(TransferDecoding.decode(out[html.bodyRange], encoding: "quoted-printable"))
        #expect(String(decoding: decoded, as: UTF8.self) == "<html><body><a href=\"https://t.test/c/0\">q</a> Grüße<img src=\"https://t.test/o/1\"></body></html>")
        // Everything else is byte-identical: the text part, the attachment, the image, the forwarded message.
        let before = MIMEPart(message: original)
        for path in [[1, 1], [2], [3], [4]] {
            let a = try #require(before.part(at: path))
            let b = try #require(root.part(at: path))
            #expect(original[a.headerRange] == out[b.headerRange] && original[a.bodyRange] == out[b.bodyRange], "\(path)")
        }
        #expect(original[before.headerRange] == out[root.headerRange])
    }

    @Test func textLinksWhenAskedAndNumberedAfterHTML() throws {
        let (out, links) = tracking(text: true).apply(to: message)
        #expect(links.map(\.url) == ["https://example.test/plain", "https://example.test/q?a=1"])
        #expect(links.map(\.index) == [0, 1])
        let text = try #require(MIMEPart(message: out).part(at: [1, 1]))
        #expect(String(decoding: out[text.bodyRange], as: UTF8.self) == "Read https://t.test/c/0.")
    }

    @Test func base64PartsStayBase64() throws {
        let html = Data("<p><a href=\"https://example.test/b64\">x</a></p>".utf8).base64EncodedString()
        let original = crlf("Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n\(html)\n")
        let (out, links) = tracking().apply(to: original)
        #expect(links.count == 1)
        let part = MIMEPart(message: out)
        #expect(part.header.text("Content-Transfer-Encoding") == "base64")
        let decoded = try #require(TransferDecoding.decode(out[part.bodyRange], encoding: "base64"))
        #expect(String(decoding: decoded, as: UTF8.self) == "<p><a href=\"https://t.test/c/0\">x</a></p><img src=\"https://t.test/o/1\">")
    }

    @Test func aLineThatWouldPass998OctetsBecomesQuotedPrintable() throws {
        let long = String(repeating: "<a href=\"https://e.test/\">x</a>", count: 25)
        let tracking = MessageTracking(
            html: HTMLLinkRewriter(trackingURL: { index, _ in "https://t.test/c/" + String(repeating: "T", count: 30) + "\(index)" }, pixel: nil))
        let original = crlf("Subject: s\nContent-Type: text/html\nContent-Transfer-Encoding: 7bit\n\n\(long)\n")
        #expect(MessageTracking.longestLine(original) < 998)
        let (out, links) = tracking.apply(to: original)
        #expect(links.count == 25)
        let part = MIMEPart(message: out)
        #expect(part.header.fields.filter { ASCIICase.equal($0.name, "Content-Transfer-Encoding") }.map { String(decoding: $0.value, as: UTF8.self) } == ["quoted-printable"])
        #expect(part.header.text("Subject") == "s")
        #expect(MessageTracking.longestLine(out) <= 76)
        let decoded = try #require(TransferDecoding.decode(out[part.bodyRange], encoding: "quoted-printable"))
        #expect(String(decoding: decoded, as: UTF8.self).components(separatedBy: "https://t.test/c/").count == 26)
    }

    @Test func nothingToTrackLeavesTheMessageAsItWas() {
        let plain = crlf("Subject: s\nContent-Type: text/plain\n\nNo links here, https://e.test/ only in text.\n")
        #expect(tracking().apply(to: plain).message == plain)
        let utf16 = crlf("Content-Type: text/html; charset=utf-16\n\n<a href=\"https://e.test/\">x</a>\n")
        #expect(tracking().apply(to: utf16).message == utf16)
    }
}

/// SendGrid's subscription tracking footers and substitution tag.
@Suite struct SubscriptionFooterTests {
    func crlf(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    static let message = """
        Subject: s
        Content-Type: multipart/alternative; boundary="b"

        --b
        Content-Type: text/plain

        Hello.
        --b
        Content-Type: text/html; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        <html><body><p>Hello <a href=3D"https://shop.test/">shop</a></p></body></html>
        --b--

        """

    @Test func footersGoIntoBothPartsWithTheLinkAtTheMark() throws {
        let footer = SubscriptionFooter(url: "https://t.test/u/T?a=1&b=2", html: "<p>Bye? <% Unsubscribe here %></p>", text: "Unsubscribe: <% %>")
        let tracking = MessageTracking(html: HTMLLinkRewriter(trackingURL: { i, _ in "https://t.test/c/\(i)" }, pixel: nil), footer: footer)
        let (out, links) = tracking.apply(to: crlf(Self.message))
        #expect(links.count == 1)  // the footer's link is not tracked
        let root = MIMEPart(message: out)
        let text = String(decoding: out[try #require(root.part(at: [1])).bodyRange], as: UTF8.self)
        #expect(text == "Hello.\r\n\r\nUnsubscribe: https://t.test/u/T?a=1&b=2")
        let htmlPart = try #require(root.part(at: [2]))
        let html = String(decoding: try #require(TransferDecoding.decode(out[htmlPart.bodyRange], encoding: "quoted-printable")), as: UTF8.self)
        #expect(html == "<html><body><p>Hello <a href=\"https://t.test/c/0\">shop</a></p><p>Bye? <a href=\"https://t.test/u/T?a=1&amp;b=2\">Unsubscribe here</a></p></body></html>")
        #expect(SubscriptionFooter(url: "u").renderedText == "If you would like to unsubscribe and stop receiving these emails click here: u.")
        #expect(SubscriptionFooter(url: "u", text: "no mark").renderedText == "no mark u")
    }

    @Test func aSubstitutionTagReplacesTheFootersWherever() throws {
        let message = crlf("Content-Type: text/html\n\n<p>Leave: [unsub] or [unsub]</p>\n")
        let footer = SubscriptionFooter(url: "https://t.test/u/T&x", substitutionTag: "[unsub]")
        let (out, _) = MessageTracking(html: HTMLLinkRewriter(trackingURL: nil, pixel: nil), footer: footer).apply(to: message)
        #expect(String(decoding: out, as: UTF8.self).hasSuffix("<p>Leave: https://t.test/u/T&amp;x or https://t.test/u/T&amp;x</p>\r\n"))
        // No tag in the body: nothing is added.
        let plain = crlf("Content-Type: text/plain\n\nNo tag here.\n")
        #expect(MessageTracking(html: HTMLLinkRewriter(trackingURL: nil, pixel: nil), footer: footer).apply(to: plain).message == plain)
    }
}
