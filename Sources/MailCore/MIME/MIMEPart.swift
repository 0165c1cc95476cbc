/// A message read into its MIME tree (RFC 2045, RFC 2046): every entity's header, where its
/// body lies in the stored bytes, and its children (the parts of a multipart, or the message
/// inside a `message/rfc822`). Offsets point into the bytes that were parsed, so a body or a
/// header is sliced, never copied, when IMAP asks for `BODY[1.2]`.
///
/// Tolerant like the receiving side must be: a missing boundary, a multipart with no parts, a
/// header with no empty line after it all still give a tree (RFC 2046 §5.1.1's preamble and
/// epilogue are skipped). Bounded: at most `maximumDepth` levels and `maximumParts` entities;
/// deeper or further content stays inside its parent as an opaque leaf.
public struct MIMEPart: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case single
        case multipart
        /// `message/rfc822` (and `message/global`): one child, the encapsulated message.
        case message
    }

    public var kind: Kind
    public var header: MIMEHeader
    /// The header section, with the empty line that ends it when there is one.
    public var headerRange: Range<Int>
    public var bodyRange: Range<Int>
    /// Content-Type, with RFC 2045 §5.2's default (`text/plain; charset=us-ascii`, or
    /// `message/rfc822` inside `multipart/digest`) when it is missing or broken.
    public var contentType: MIMEFieldValue
    public var children: [MIMEPart]
    /// Lines of the body (for IMAP's `body-fld-lines`).
    public var bodyLines: Int

    public static let maximumDepth = 32
    public static let maximumParts = 2000

    public var type: String { contentType.value.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "text" }
    public var subtype: String {
        let pieces = contentType.value.split(separator: "/", maxSplits: 1)
        return pieces.count == 2 ? String(pieces[1]) : "plain"
    }

    /// Parses a whole message.
    public init(message bytes: [UInt8]) {
        var budget = Self.maximumParts
        self = Self.parse(bytes, 0..<bytes.count, depth: 0, digest: false, budget: &budget)
    }

    init(kind: Kind, header: MIMEHeader, headerRange: Range<Int>, bodyRange: Range<Int>, contentType: MIMEFieldValue, children: [MIMEPart], bodyLines: Int) {
        self.kind = kind
        self.header = header
        self.headerRange = headerRange
        self.bodyRange = bodyRange
        self.contentType = contentType
        self.children = children
        self.bodyLines = bodyLines
    }

    static func parse(_ bytes: [UInt8], _ range: Range<Int>, depth: Int, digest: Bool, budget: inout Int) -> MIMEPart {
        budget -= 1
        let headerEnd = Self.headerEnd(bytes, range)
        let header = MIMEHeader(bytes, range.lowerBound..<headerEnd.fieldsEnd)
        let bodyRange = headerEnd.bodyStart..<range.upperBound
        var contentType = header.first("Content-Type").map(MIMEFieldValue.init(parsing:)) ?? MIMEFieldValue(value: "")
        let pieces = contentType.value.split(separator: "/", omittingEmptySubsequences: false)
        if pieces.count != 2 || pieces.contains(where: \.isEmpty) {
            // RFC 2045 §5.2: a missing or unusable Content-Type means the default.
            contentType = digest ? MIMEFieldValue(value: "message/rfc822") : MIMEFieldValue(value: "text/plain", parameters: [("charset", Array("us-ascii".utf8))])
        }
        var part = MIMEPart(
            kind: .single, header: header, headerRange: range.lowerBound..<headerEnd.bodyStart, bodyRange: bodyRange,
            contentType: contentType, children: [], bodyLines: Self.lines(bytes, bodyRange))
        guard depth < Self.maximumDepth, budget > 0 else { return part }
        if part.type == "multipart", let boundary = contentType.parameter("boundary"), !boundary.isEmpty, boundary.count <= 200 {
            part.kind = .multipart
            let isDigest = part.subtype == "digest"
            for childRange in Self.parts(bytes, bodyRange, boundary: boundary) {
                guard budget > 0 else { break }
                part.children.append(Self.parse(bytes, childRange, depth: depth + 1, digest: isDigest, budget: &budget))
            }
        } else if part.type == "message", part.subtype == "rfc822" || part.subtype == "global" {
            // Only identity encodings can hold a message to look into (RFC 2046 §5.2.1).
            let encoding = header.text("Content-Transfer-Encoding")?.trimmingSpaces().lowercased() ?? "7bit"
            if ["7bit", "8bit", "binary"].contains(encoding) {
                part.kind = .message
                part.children = [Self.parse(bytes, bodyRange, depth: depth + 1, digest: false, budget: &budget)]
            }
        }
        return part
    }

    /// Where the fields end and the body starts: after the first empty line. With no empty
    /// line, everything is header and the body is empty.
    static func headerEnd(_ bytes: [UInt8], _ range: Range<Int>) -> (fieldsEnd: Int, bodyStart: Int) {
        var lineStart = range.lowerBound
        // A part that starts with an empty line has no header fields at all.
        while lineStart < range.upperBound {
            var lineEnd = lineStart
            while lineEnd < range.upperBound, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let contentEnd = lineEnd > lineStart && bytes[lineEnd - 1] == 0x0D ? lineEnd - 1 : lineEnd
            if contentEnd == lineStart {
                return (lineStart, min(lineEnd + 1, range.upperBound))
            }
            lineStart = lineEnd + 1
        }
        return (range.upperBound, range.upperBound)
    }

    /// The body ranges between `--boundary` delimiter lines (RFC 2046 §5.1.1): the CRLF before
    /// a delimiter belongs to the delimiter; the preamble and epilogue are not parts. One pass.
    static func parts(_ bytes: [UInt8], _ range: Range<Int>, boundary: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var partStart: Int?
        var lineStart = range.lowerBound
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        while lineStart < range.upperBound {
            var lineEnd = lineStart
            while lineEnd < range.upperBound, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            if Self.starts(bytes, at: lineStart, end: lineEnd, with: delimiter) {
                var after = lineStart + delimiter.count
                let closing = after + 1 < lineEnd && bytes[after] == UInt8(ascii: "-") && bytes[after + 1] == UInt8(ascii: "-")
                if closing { after += 2 }
                // Only transport padding may follow the boundary on its line.
                var rest = after
                while rest < lineEnd, bytes[rest] == 0x20 || bytes[rest] == 0x09 || bytes[rest] == 0x0D { rest += 1 }
                if rest == lineEnd {
                    if let start = partStart {
                        var end = lineStart
                        if end > start, bytes[end - 1] == 0x0A { end -= 1 }
                        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                        out.append(start..<max(start, end))
                    }
                    if closing { return out }
                    partStart = min(lineEnd + 1, range.upperBound)
                }
            }
            lineStart = lineEnd + 1
        }
        // No closing delimiter: the last part runs to the end (a truncated message).
        if let start = partStart { out.append(start..<range.upperBound) }
        return out
    }

    static func starts(_ bytes: [UInt8], at start: Int, end: Int, with prefix: [UInt8]) -> Bool {
        guard end - start >= prefix.count else { return false }
        for i in 0..<prefix.count where bytes[start + i] != prefix[i] { return false }
        return true
    }

    /// Lines in `range`: each LF ends one, and a last line without one counts too.
    static func lines(_ bytes: [UInt8], _ range: Range<Int>) -> Int {
        guard !range.isEmpty else { return 0 }
        var count = 0
        for i in range where bytes[i] == 0x0A { count += 1 }
        if bytes[range.upperBound - 1] != 0x0A { count += 1 }
        return count
    }

    /// The part that an IMAP section-part names (RFC 9051 §6.4.5): `[1, 2]` is "1.2". Part
    /// numbers of a message/rfc822 part continue into the message it holds; a single-part
    /// message has one part, numbered 1, which is its body.
    public func part(at path: [Int]) -> MIMEPart? {
        var current = self
        var atRoot = true
        for number in path {
            // Below the top level, a message/rfc822 part's numbers count the parts of the
            // message inside; the top level's own body is part 1 whatever its type.
            if !atRoot, current.kind == .message, let inner = current.children.first { current = inner }
            atRoot = false
            switch current.kind {
            case .multipart:
                guard number >= 1, number <= current.children.count else { return nil }
                current = current.children[number - 1]
            case .single, .message:
                guard number == 1 else { return nil }
            }
        }
        return current
    }
}
