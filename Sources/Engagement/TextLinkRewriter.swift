/// Click tracking in text/plain (`click_tracking.enable_text`): every `http://` or `https://`
/// URL, up to white space or a character that cannot end a URL in running text, is replaced by
/// its tracking URL. Trailing sentence punctuation stays outside the link.
public enum TextLinkRewriter {
    public static func rewrite(
        _ text: [UInt8], firstIndex: Int, trackingURL: (_ index: Int, _ url: String) -> String
    ) -> (text: [UInt8], links: [HTMLLinkRewriter.Link]) {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var links: [HTMLLinkRewriter.Link] = []
        var i = 0
        while i < text.count {
            guard firstIndex + links.count < HTMLLinkRewriter.maximumLinks,
                text[i] == UInt8(ascii: "h") || text[i] == UInt8(ascii: "H"),
                i == 0 || !isURLByte(text[i - 1]),
                HTMLLinkRewriter.hasPrefix(text, at: i, "http://") || HTMLLinkRewriter.hasPrefix(text, at: i, "https://")
            else {
                out.append(text[i])
                i += 1
                continue
            }
            var end = i
            while end < text.count, isURLByte(text[end]) { end += 1 }
            // "see https://x.test/a." ends the sentence, not the URL.
            while end > i, [UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
                UInt8(ascii: "?"), UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "'")].contains(text[end - 1]) {
                end -= 1
            }
            let raw = Array(text[i..<end])
            let url = String(decoding: raw, as: UTF8.self)
            let scheme = HTMLLinkRewriter.hasPrefix(raw, at: 0, "https://") ? 8 : 7
            guard raw.count > scheme else {
                out.append(contentsOf: raw)
                i = end
                continue
            }
            let index = firstIndex + links.count
            links.append(HTMLLinkRewriter.Link(index: index, url: url, original: raw))
            out.append(contentsOf: Array(trackingURL(index, url).utf8))
            i = end
        }
        return (out, links)
    }

    /// Printable ASCII that may appear in a URL in running text (not white space, quotes or
    /// angle brackets, which delimit URLs in text, RFC 3986 Appendix C).
    static func isURLByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">")
    }
}
