import MailCore

/// Open and click tracking applied to a whole message, before DKIM signing (the signature
/// covers the final bytes). Each text/html body part (and text/plain with `trackText`) is
/// decoded from its transfer encoding, rewritten, and encoded again the same way; a part sent
/// as 7bit or 8bit whose lines would pass 998 octets (RFC 5322 §2.1.1) is re-encoded as
/// quoted-printable, its header saying so. Attachments, forwarded messages (message/rfc822),
/// non-text parts and parts in UTF-16/32 are never touched. The open pixel goes into the
/// first HTML part only, so one reading is one open.
public struct MessageTracking {
    public var html: HTMLLinkRewriter
    public var trackText: Bool
    /// Subscription tracking: a footer (or the URL at a substitution tag) in each HTML and
    /// text body part, added after links are rewritten (the unsubscribe link is not tracked).
    public var footer: SubscriptionFooter?
    /// The tracking URL of a link in a text part; nil uses `html.trackingURL`.
    public var textTrackingURL: ((_ index: Int, _ url: String) -> String)?

    public init(html: HTMLLinkRewriter, trackText: Bool = false, footer: SubscriptionFooter? = nil) {
        self.html = html
        self.trackText = trackText
        self.footer = footer
    }

    public func apply(to message: [UInt8]) -> (message: [UInt8], links: [HTMLLinkRewriter.Link]) {
        let root = MIMEPart(message: message)
        var edits: [(range: Range<Int>, replacement: [UInt8])] = []
        var links: [HTMLLinkRewriter.Link] = []
        var pixelPlaced = false
        for part in Self.bodyParts(root) {
            let isHTML = part.subtype == "html"
            guard isHTML || (trackText && (textTrackingURL ?? html.trackingURL) != nil) || footer != nil else { continue }
            let encoding = (part.header.text("Content-Transfer-Encoding") ?? "7bit").trimmingSpaces().lowercased()
            let original = message[part.bodyRange]
            guard let decoded = TransferDecoding.decode(original, encoding: encoding) else { continue }
            var rewritten: [UInt8]
            if isHTML {
                var rewriter = html
                if pixelPlaced { rewriter.pixel = nil }
                let result = rewriter.rewrite(decoded, firstIndex: links.count)
                pixelPlaced = pixelPlaced || rewriter.pixel != nil
                rewritten = result.html
                links += result.links
            } else if trackText, let trackingURL = textTrackingURL ?? html.trackingURL {
                let result = TextLinkRewriter.rewrite(decoded, firstIndex: links.count, trackingURL: trackingURL)
                rewritten = result.text
                links += result.links
            } else {
                rewritten = decoded
            }
            if let footer { rewritten = Self.adding(footer, to: rewritten, html: isHTML) }
            guard rewritten != decoded else { continue }
            var body: [UInt8]
            var header: [UInt8]?
            switch encoding {
            case "base64":
                body = ContentTransferEncoding.base64.encode(rewritten)
            case "quoted-printable":
                body = ContentTransferEncoding.quotedPrintable.encode(rewritten)
            default:
                if Self.longestLine(rewritten) > 998 {
                    body = ContentTransferEncoding.quotedPrintable.encode(rewritten)
                    header = Self.header(message[part.headerRange], transferEncoding: "quoted-printable")
                } else {
                    body = rewritten
                }
            }
            // The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1): a body
            // that did not end in one must not gain one.
            if !Self.endsInLineBreak(original), Self.endsInLineBreak(body) { body.removeLast(2) }
            if let header { edits.append((part.headerRange, header)) }
            edits.append((part.bodyRange, body))
        }
        guard !edits.isEmpty else { return (message, links) }
        edits.sort { $0.range.lowerBound < $1.range.lowerBound }
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 4)
        var position = 0
        for edit in edits {
            out.append(contentsOf: message[position..<edit.range.lowerBound])
            out.append(contentsOf: edit.replacement)
            position = edit.range.upperBound
        }
        out.append(contentsOf: message[position...])
        return (out, links)
    }

    /// A body with the subscription footer before the last `</body>` (HTML) or at the end
    /// (text), or with the URL at each substitution tag instead.
    static func adding(_ footer: SubscriptionFooter, to body: [UInt8], html: Bool) -> [UInt8] {
        // With a substitution tag, the URL goes only where the tag is, and no footer is added.
        if let tag = footer.substitutionTag.map({ Array($0.utf8) }) {
            let url = Array((html ? SubscriptionFooter.escaped(footer.url) : footer.url).utf8)
            var out: [UInt8] = []
            var position = 0
            while let found = HTMLLinkRewriter.firstRange(of: tag, in: body, from: position) {
                out += body[position..<found.lowerBound] + url
                position = found.upperBound
            }
            return out + body[position...]
        }
        if html {
            let at = HTMLLinkRewriter.lastBodyClose(in: body) ?? body.count
            return Array(body[..<at]) + Array(footer.renderedHTML.utf8) + Array(body[at...])
        }
        var out = body
        if !out.isEmpty, out.last != 0x0A { out += [0x0D, 0x0A] }
        return out + Array("\r\n\(footer.renderedText)\r\n".utf8)
    }

    /// Text leaves in document order that are the message's own body: not attachments, not
    /// inside a forwarded message, not in a 16- or 32-bit charset.
    static func bodyParts(_ part: MIMEPart) -> [MIMEPart] {
        switch part.kind {
        case .message: return []
        case .multipart: return part.children.flatMap(bodyParts)
        case .single:
            guard part.type == "text", part.subtype == "html" || part.subtype == "plain" else { return [] }
            let disposition = part.header.text("Content-Disposition").map { MIMEFieldValue(parsing: Array($0.utf8)).value } ?? ""
            let charset = part.contentType.parameter("charset").map { String(decoding: $0, as: UTF8.self).lowercased() } ?? ""
            guard disposition != "attachment", !charset.hasPrefix("utf-16"), !charset.hasPrefix("utf-32") else { return [] }
            return [part]
        }
    }

    static func longestLine(_ bytes: [UInt8]) -> Int {
        var longest = 0
        var current = 0
        for byte in bytes {
            if byte == 0x0A {
                longest = max(longest, current)
                current = 0
            } else if byte != 0x0D {
                current += 1
            }
        }
        return max(longest, current)
    }

    static func endsInLineBreak(_ bytes: some BidirectionalCollection<UInt8>) -> Bool {
        bytes.count >= 2 && bytes.suffix(2).elementsEqual([0x0D, 0x0A])
    }

    /// A part's header (fields and the empty line) with its Content-Transfer-Encoding field(s)
    /// replaced by one saying `value`.
    static func header(_ raw: ArraySlice<UInt8>, transferEncoding value: String) -> [UInt8] {
        var out: [UInt8] = []
        var skipping = false
        var lineStart = raw.startIndex
        var fieldsEnd = raw.endIndex
        while lineStart < raw.endIndex {
            var lineEnd = lineStart
            while lineEnd < raw.endIndex, raw[lineEnd] != 0x0A { lineEnd += 1 }
            let next = min(lineEnd + 1, raw.endIndex)
            let line = raw[lineStart..<next]
            let content = line.prefix { $0 != 0x0D && $0 != 0x0A }
            if content.isEmpty {
                fieldsEnd = lineStart
                break
            }
            if content.first == 0x20 || content.first == 0x09 {
                if !skipping { out.append(contentsOf: line) }
            } else {
                let name = content.prefix { $0 != UInt8(ascii: ":") }
                skipping = ASCIICase.equal(String(decoding: name, as: UTF8.self).trimmingSpaces(), "Content-Transfer-Encoding")
                if !skipping { out.append(contentsOf: line) }
            }
            lineStart = next
        }
        if let last = out.last, last != 0x0A { out += [0x0D, 0x0A] }
        out.append(contentsOf: Array("Content-Transfer-Encoding: \(value)\r\n".utf8))
        out.append(contentsOf: raw[fieldsEnd...])
        return out
    }
}
