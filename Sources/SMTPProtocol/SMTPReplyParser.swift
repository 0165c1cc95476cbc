import NIOCore

/// Reads server replies on the client side (RFC 5321 §4.2): `code-text` continuation lines then
/// `code SP text`, every line with the same code. An enhanced status code (RFC 2034) at the start
/// of the text is split off.
public struct SMTPReplyParser: Sendable {
    public enum ReplyError: Error, Hashable, Sendable {
        /// Not three digits, a bad separator, or a code that changes inside one reply.
        case malformed
        /// More lines than a reply may have; the peer is misbehaving.
        case tooManyLines
    }

    private var framer = SMTPLineFramer(maximumLineLength: 2048)
    private var pending: [String] = []
    private var pendingCode: Int?
    public static let maximumLines = 100

    public init() {}

    /// The next complete reply in `buffer`, or nil when more bytes are needed.
    public mutating func next(from buffer: inout ByteBuffer) throws(ReplyError) -> SMTPReply? {
        while let frame = framer.next(from: &buffer) {
            guard case .line(let line) = frame else { throw .malformed }
            let bytes = Array(line.readableBytesView)
            guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let code = Int(String(decoding: bytes[0...2], as: UTF8.self)), (200...599).contains(code)
            else { throw .malformed }
            if let pendingCode, pendingCode != code { throw .malformed }
            let separator = bytes.count > 3 ? bytes[3] : UInt8(ascii: " ")
            guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else { throw .malformed }
            let text = bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
            pending.append(text)
            pendingCode = code
            guard pending.count <= Self.maximumLines else { throw .tooManyLines }
            if separator == UInt8(ascii: "-") { continue }
            defer {
                pending = []
                pendingCode = nil
            }
            return Self.reply(code: code, lines: pending)
        }
        return nil
    }

    static func reply(code: Int, lines: [String]) -> SMTPReply {
        // RFC 2034 §4: "class.subject.detail SP text" on each line when the server has
        // ENHANCEDSTATUSCODES; take it from the first line and strip it from all.
        guard let first = lines.first, let status = enhancedStatus(first), status.statusClass == code / 100 else {
            return SMTPReply(code, nil, lines: lines)
        }
        let prefix = status.description
        let stripped = lines.map { line -> String in
            guard line.hasPrefix(prefix) else { return line }
            return String(line.dropFirst(prefix.count).drop { $0 == " " })
        }
        return SMTPReply(code, status, lines: stripped)
    }

    static func enhancedStatus(_ text: String) -> EnhancedStatus? {
        let token = text.prefix { $0 != " " }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let c = Int(parts[0]), let s = Int(parts[1]), let d = Int(parts[2]), [2, 4, 5].contains(c),
            parts[1].count <= 3, parts[2].count <= 3
        else { return nil }
        return EnhancedStatus(c, s, d)
    }
}
