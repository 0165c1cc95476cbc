import Foundation
import Testing

@testable import Engagement

/// Click and open tracking in one HTML body: which hrefs are rewritten, where the pixel goes,
/// and (property) that nothing else changes.
@Suite struct HTMLLinkRewriterTests {
    static let pixel = "<img src=\"https://t.test/o/TOKEN\" width=\"1\" height=\"1\" alt=\"\">"

    func rewriter(pixel: String? = nil, tag: String? = nil) -> HTMLLinkRewriter {
        HTMLLinkRewriter(trackingURL: { index, _ in "https://t.test/c/\(index)" }, pixel: pixel, substitutionTag: tag)
    }

    func rewrite(_ html: String, pixel: String? = nil, tag: String? = nil) -> (String, [HTMLLinkRewriter.Link]) {
        let result = rewriter(pixel: pixel, tag: tag).rewrite(Array(html.utf8))
        return (String(decoding: result.html, as: UTF8.self), result.links)
    }

    @Test func rewritesQuotedHTTPLinksOfAnchorsOnly() {
        let html = """
            <p><a href="https://example.test/a?x=1&amp;y=2">A</a> <A HREF='http://example.test/b'>B</A>
            <a href="mailto:x@example.test">m</a> <a href=https://example.test/bare>bare</a>
            <a clicktracking=off href="https://example.test/optout">o</a> <a href="https://example.test/c" clicktracking="OFF">o2</a>
            <link rel="stylesheet" href="https://example.test/style.css"><area shape="rect" href="  https://example.test/area ">
            <!-- <a href="https://example.test/commented"> --><script>var s = '<a href="https://example.test/script">';</script>
            <a title="x > y" href="https://example.test/after-gt">t</a><a href="#top">top</a><a href="https://">empty</a></p>
            """
        let (out, links) = rewrite(html)
        #expect(links.map(\.url) == ["https://example.test/a?x=1&y=2", "http://example.test/b", "https://example.test/area", "https://example.test/after-gt"])
        #expect(links.map(\.index) == [0, 1, 2, 3])
        #expect(out.contains("<a href=\"https://t.test/c/0\">A</a> <A HREF='https://t.test/c/1'>B</A>"))
        #expect(out.contains("href=\"https://t.test/c/2\""))
        #expect(out.contains("<a title=\"x > y\" href=\"https://t.test/c/3\">"))
        for kept in ["mailto:x@example.test", "href=https://example.test/bare", "example.test/optout", "example.test/c\" clicktracking", "style.css",
            "example.test/commented", "example.test/script", "href=\"#top\"", "href=\"https://\""]
        {
            #expect(out.contains(kept), "\(kept)")
        }
        #expect(links[0].original == Array("https://example.test/a?x=1&amp;y=2".utf8))
    }

    @Test func pixelGoesBeforeTheLastBodyCloseOrAtTheSubstitutionTag() {
        #expect(rewrite("<html><body>Hi</body></html>", pixel: "P").0 == "<html><body>Hi</body></html>".replacingFirst("</body>", "P</body>"))
        #expect(rewrite("<body>x</BODY>\n<!-- </body> -->y</Body >", pixel: "P").0 == "<body>x</BODY>\n<!-- </body> -->yP</Body >")
        #expect(rewrite("no body tag", pixel: "P").0 == "no body tagP")
        #expect(rewrite("a [%open%] b [%open%]</body>", pixel: "P", tag: "[%open%]").0 == "a P b P</body>")
        #expect(rewrite("a </body>", pixel: "P", tag: "[%absent%]").0 == "a P</body>")
    }

    @Test func atMostAThousandLinks() {
        let html = String(repeating: "<a href=\"https://example.test/x\">x</a>", count: 1005)
        let (out, links) = rewrite(html)
        #expect(links.count == 1000)
        #expect(out.components(separatedBy: "https://example.test/x").count - 1 == 5)
        // Numbering continues across parts, and the limit counts them all.
        let second = rewriter().rewrite(Array("<a href=\"http://e.test/y\">y</a>".utf8), firstIndex: 999)
        #expect(second.links.map(\.index) == [999])
        #expect(rewriter().rewrite(Array("<a href=\"http://e.test/y\">y</a>".utf8), firstIndex: 1000).links.isEmpty)
    }

    @Test func brokenMarkupEndsTheScanWithoutHarm() {
        for html in ["<a href=\"https://e.test/unterminated", "<a href=", "<!-- never closed <a href=\"https://e.test/x\">", "<script><a href=\"https://e.test/x\">",
            "<", "<a", "<a =\"x\" href=\"https://e.test/ok\">", "\u{0}<a\u{0}href=\"https://e.test/nul\">"]
        {
            let (out, links) = rewrite(html)
            #expect(links.count <= 1)
            if links.isEmpty { #expect(out == html) }
        }
        #expect(rewrite("<a =\"x\" href=\"https://e.test/ok\">").1.map(\.url) == ["https://e.test/ok"])
    }

    /// Property: for generated HTML, putting each link's original bytes back in place of its
    /// tracking URL and taking the pixel out gives the input exactly; and every trackable link
    /// the generator wrote was found.
    @Test func rewritingChangesNothingButHrefValuesAndThePixel() {
        var generator = SplitMix(seed: 0x5EED)
        for _ in 0..<400 {
            let (html, trackable) = Self.generateHTML(&generator)
            let pixel = "<img src=\"https://t.test/o/\(generator.next() % 1000)\">"
            let result = HTMLLinkRewriter(trackingURL: { index, _ in "\u{1}LINK\(index)\u{1}" }, pixel: pixel).rewrite(Array(html.utf8))
            #expect(result.links.count == trackable)
            var restored = String(decoding: result.html, as: UTF8.self)
            for link in result.links {
                restored = restored.replacingFirst("\u{1}LINK\(link.index)\u{1}", String(decoding: link.original, as: UTF8.self))
            }
            let withoutPixel = restored.replacingLast(pixel, "")
            #expect(withoutPixel == html)
            #expect(!restored.contains("\u{1}"))
        }
    }

    /// Random markup: text (with `<`, `>`, quotes and non-ASCII), tags with attributes in every
    /// quoting style, comments, scripts, opted-out links, other schemes; returns how many links
    /// are trackable.
    static func generateHTML(_ g: inout SplitMix) -> (String, Int) {
        var html = ""
        var trackable = 0
        let texts = ["Hello ", "a > b ", "x < y", "\"quoted\" ", "Grüße ✓ ", "&amp; ", "\n", "  "]
        let urls = ["https://example.test/p?a=1&amp;b=2", "http://e.test/", "HTTPS://E.TEST/UP", "https://e.test/#frag"]
        let others = ["mailto:a@e.test", "#top", "/relative", "ftp://e.test/f", "javascript:void(0)", ""]
        for _ in 0..<Int(g.next() % 30) {
            switch g.next() % 9 {
            case 0, 1: html += texts[Int(g.next() % UInt64(texts.count))]
            case 2:
                let quote = g.next() % 2 == 0 ? "\"" : "'"
                let extra = g.next() % 2 == 0 ? " class=\(quote)c\(quote)" : ""
                html += "<a\(extra) href=\(quote)\(urls[Int(g.next() % UInt64(urls.count))])\(quote)>link</a>"
                trackable += 1
            case 3: html += "<a href=\"\(others[Int(g.next() % UInt64(others.count))])\">other</a>"
            case 4: html += "<a clicktracking=off href=\"https://e.test/off\">off</a>"
            case 5: html += "<!-- <a href=\"https://e.test/c\"> -->"
            case 6: html += "<script>document.write('<a href=\"https://e.test/s\">')</script>"
            case 7: html += "<img src=\"https://e.test/i.png\" alt='a > b'><br/>"
            default: html += "<div style=\"x\" data-href=\"https://e.test/d\">d</div>"
            }
        }
        if g.next() % 2 == 0 { html = "<html><body>" + html + "</body></html>" }
        return (html, trackable)
    }
}

/// A small deterministic generator for property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    func replacingFirst(_ target: String, _ replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }

    func replacingLast(_ target: String, _ replacement: String) -> String {
        guard let range = range(of: target, options: .backwards) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
