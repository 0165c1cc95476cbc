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

/// What a server offers in its EHLO reply (RFC 5321 §4.1.1.1): keywords and their parameters.
public struct ServerCapabilities: Hashable, Sendable {
    public var keywords: [String: [String]]

    public init(ehloReply: SMTPReply) {
        var keywords: [String: [String]] = [:]
        for line in ehloReply.lines.dropFirst() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = parts.first else { continue }
            keywords[keyword.uppercased()] = parts.dropFirst().map(String.init)
        }
        self.keywords = keywords
    }

    public func offers(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

    /// RFC 1870: the declared maximum, nil when SIZE is absent or has no (or a zero) limit.
    public var maximumSize: Int? {
        guard let value = keywords["SIZE"]?.first, let size = Int(value), size > 0 else { return nil }
        return size
    }

    public var authMechanisms: [String] { keywords["AUTH"]?.map { $0.uppercased() } ?? [] }
}

/// Turns a stored message into DATA wire form (RFC 5321 §4.5.2): every line ending becomes CRLF
/// (a bare CR or LF can never reach the next hop, so no downstream server can be smuggled to),
/// lines starting with "." get another ".", and the body ends with CRLF "." CRLF.
public enum DotStuffer {
    public static func encode(_ body: some Collection<UInt8>, into out: inout ByteBuffer) {
        if let done: Void = body.withContiguousStorageIfAvailable({ encode(buffer: $0, into: &out) }) { return done }
        let copy = Array(body)
        copy.withUnsafeBufferPointer { encode(buffer: $0, into: &out) }
    }

    /// Copies runs of ordinary octets whole and handles only line ends and leading dots one by
    /// one (a byte-at-a-time loop cost a noticeable share of delivery CPU).
    static func encode(buffer body: UnsafeBufferPointer<UInt8>, into out: inout ByteBuffer) {
        out.reserveCapacity(minimumWritableBytes: body.count + body.count / 64 + 8)
        var index = 0
        var atLineStart = true
        let count = body.count
        while index < count {
            if atLineStart && body[index] == UInt8(ascii: ".") { out.writeInteger(UInt8(ascii: ".")) }
            // The run up to the next CR or LF goes out as it is.
            var end = index
            while end < count && body[end] != 0x0D && body[end] != 0x0A { end += 1 }
            if end > index { out.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: body[index..<end]))) }
            guard end < count else {
                index = end
                atLineStart = false
                break
            }
            // CR LF, a bare CR or a bare LF: each becomes one CRLF.
            out.writeInteger(UInt16(0x0D0A))
            index = body[end] == 0x0D && end + 1 < count && body[end + 1] == 0x0A ? end + 2 : end + 1
            atLineStart = true
        }
        if !atLineStart { out.writeInteger(UInt16(0x0D0A)) }
        out.writeBytes([UInt8(ascii: "."), 0x0D, 0x0A])
    }
}
