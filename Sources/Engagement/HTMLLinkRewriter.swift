/// Click and open tracking for one decoded text/html body (SendGrid's `click_tracking` and
/// `open_tracking`): every quoted `href` of an `<a>` or `<area>` tag whose URL is http or https
/// is replaced by a tracking URL, except in tags marked `clicktracking=off`; the open pixel goes
/// before the last `</body>` (or where the substitution tag is, or at the end). One forward
/// scan; nothing outside the replaced values and the inserted pixel changes, byte for byte.
public struct HTMLLinkRewriter {
    /// A link found and rewritten: its number in the message (0-based, counted across the
    /// message's parts), the URL a click goes to, and the bytes it replaced.
    public struct Link: Sendable, Equatable {
        public var index: Int
        public var url: String
        public var original: [UInt8]
    }

    /// SendGrid rewrites at most this many links per message.
    public static let maximumLinks = 1000

    /// Makes the tracking URL for link `index` going to `url` (ASCII; it is put between quotes).
    public var trackingURL: ((_ index: Int, _ url: String) -> String)?
    /// The `<img>` to insert, or nil for no open tracking.
    public var pixel: String?
    /// Replaced by the pixel wherever it appears, instead of inserting before `</body>`.
    public var substitutionTag: String?

    public init(trackingURL: ((Int, String) -> String)?, pixel: String?, substitutionTag: String? = nil) {
        self.trackingURL = trackingURL
        self.pixel = pixel
        self.substitutionTag = substitutionTag
    }

    /// Rewrites `html`; `firstIndex` numbers the first link (links of earlier parts come before).
    public func rewrite(_ html: [UInt8], firstIndex: Int = 0) -> (html: [UInt8], links: [Link]) {
        var edits: [(range: Range<Int>, replacement: [UInt8])] = []
        var links: [Link] = []
        if let trackingURL {
            for value in Self.hrefValues(in: html) {
                guard firstIndex + links.count < Self.maximumLinks else { break }
                let raw = Array(html[value])
                guard let url = Self.trackableURL(raw) else { continue }
                let index = firstIndex + links.count
                links.append(Link(index: index, url: url, original: raw))
                edits.append((value, Array(trackingURL(index, url).utf8)))
            }
        }
        if let pixel {
            let image = Array(pixel.utf8)
            if let tag = substitutionTag.map({ Array($0.utf8) }), !tag.isEmpty, Self.firstRange(of: tag, in: html, from: 0) != nil {
                var from = 0
                while let found = Self.firstRange(of: tag, in: html, from: from) {
                    edits.append((found, image))
                    from = found.upperBound
                }
            } else {
                let at = Self.lastBodyClose(in: html) ?? html.count
                edits.append((at..<at, image))
            }
        }
        edits.sort { $0.range.lowerBound < $1.range.lowerBound }
        var out: [UInt8] = []
        out.reserveCapacity(html.count + edits.reduce(0) { $0 + $1.replacement.count })
        var position = 0
        for edit in edits where edit.range.lowerBound >= position {
            out.append(contentsOf: html[position..<edit.range.lowerBound])
            out.append(contentsOf: edit.replacement)
            position = edit.range.upperBound
        }
        out.append(contentsOf: html[position...])
        return (out, links)
    }

    /// The value ranges (inside the quotes) of `href` attributes of `<a>` and `<area>` tags that
    /// are not marked `clicktracking=off`. Comments, `<script>` and `<style>` are skipped.
    static func hrefValues(in html: [UInt8]) -> [Range<Int>] {
        var values: [Range<Int>] = []
        var i = 0
        let n = html.count
        while i < n {
            guard html[i] == UInt8(ascii: "<") else {
                i += 1
                continue
            }
            if Self.hasPrefix(html, at: i, "<!--") {
                i = (firstRange(of: Array("-->".utf8), in: html, from: i + 4)?.upperBound) ?? n
                continue
            }
            var j = i + 1
            while j < n, isNameByte(html[j]) { j += 1 }
            let name = lowered(html[(i + 1)..<j])
            guard !name.isEmpty else {
                i += 1
                continue
            }
            let tag = attributes(in: html, from: j)
            i = tag.end
            if name == "script" || name == "style" {
                // Raw text up to the matching end tag is not markup.
                i = closingTag(name, in: html, from: i) ?? n
                continue
            }
            guard name == "a" || name == "area" else { continue }
            let off = tag.attributes.contains { attribute in
                attribute.name == "clicktracking" && attribute.value.map { lowered(html[$0]) == "off" } == true
            }
            guard !off, let href = tag.attributes.first(where: { $0.name == "href" && $0.quoted }), let value = href.value else { continue }
            values.append(value)
        }
        return values
    }

    struct Attribute {
        var name: String
        var value: Range<Int>?
        var quoted: Bool
    }

    /// Reads attributes from `start` to the tag's `>`: names, `=`, quoted or bare values.
    static func attributes(in html: [UInt8], from start: Int) -> (attributes: [Attribute], end: Int) {
        var result: [Attribute] = []
        var i = start
        let n = html.count
        while i < n {
            let byte = html[i]
            if byte == UInt8(ascii: ">") { return (result, i + 1) }
            if isSpace(byte) || byte == UInt8(ascii: "/") {
                i += 1
                continue
            }
            let nameStart = i
            while i < n, !isSpace(html[i]), html[i] != UInt8(ascii: ">"), html[i] != UInt8(ascii: "="), html[i] != UInt8(ascii: "/") {
                i += 1
            }
            let name = lowered(html[nameStart..<i])
            var k = i
            while k < n, isSpace(html[k]) { k += 1 }
            guard k < n, html[k] == UInt8(ascii: "=") else {
                result.append(Attribute(name: name, value: nil, quoted: false))
                continue
            }
            k += 1
            while k < n, isSpace(html[k]) { k += 1 }
            guard k < n else { return (result, n) }
            let quote = html[k]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                var end = k + 1
                while end < n, html[end] != quote { end += 1 }
                guard end < n else { return (result, n) }
                result.append(Attribute(name: name, value: (k + 1)..<end, quoted: true))
                i = end + 1
            } else {
                var end = k
                while end < n, !isSpace(html[end]), html[end] != UInt8(ascii: ">") { end += 1 }
                result.append(Attribute(name: name, value: k..<end, quoted: false))
                i = end
            }
        }
        return (result, n)
    }

    /// The URL a browser would follow for an href value (entities decoded, outer white space
    /// trimmed) when it is http or https, else nil.
    static func trackableURL(_ raw: [UInt8]) -> String? {
        let decoded = HTMLEntities.decode(raw)
        var text = String(decoding: decoded, as: UTF8.self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        let lower = text.prefix(8).lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), text.utf8.count > (lower.hasPrefix("https") ? 8 : 7) else { return nil }
        return text
    }

    /// Where the last `</body` starts (case-insensitive).
    static func lastBodyClose(in html: [UInt8]) -> Int? {
        let marker = Array("</body".utf8)
        var i = html.count - marker.count
        while i >= 0 {
            if html[i] == UInt8(ascii: "<"), hasPrefix(html, at: i, "</body") { return i }
            i -= 1
        }
        return nil
    }

    /// Where `</name` starts at or after `start` (case-insensitive), for raw-text elements.
    static func closingTag(_ name: String, in html: [UInt8], from start: Int) -> Int? {
        let marker = "</" + name
        var i = start
        while i < html.count {
            if html[i] == UInt8(ascii: "<"), hasPrefix(html, at: i, marker) { return i }
            i += 1
        }
        return nil
    }

    static func firstRange(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Range<Int>? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var i = start
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0], bytes[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
            i += 1
        }
        return nil
    }

    /// Whether `bytes` at `index` starts with `prefix`, ignoring ASCII case.
    static func hasPrefix(_ bytes: [UInt8], at index: Int, _ prefix: String) -> Bool {
        var i = index
        for byte in prefix.utf8 {
            guard i < bytes.count, lower(bytes[i]) == lower(byte) else { return false }
            i += 1
        }
        return true
    }

    static func lowered(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes.map(lower), as: UTF8.self) }
    static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C }
    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-")
    }
}
