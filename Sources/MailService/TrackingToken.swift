import Crypto
import MailCore

/// What a tracking or unsubscribe URL carries (`/t/o/{token}`, `/t/c/{token}`, `/u/{token}`):
/// the message, the recipient, the link's number and URL (clicks) or the unsubscribe group.
/// Everything needed to answer is in the token, so links keep working after old event rows are
/// pruned; an HMAC-SHA256 tag (truncated to 128 bits) over it with the server's secret means a
/// forged or altered token is refused, and the click redirector can never be made to send a
/// browser anywhere the sender's own message did not link to.
public struct TrackingToken: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case open = 1
        case click = 2
        case unsubscribe = 3
        /// A click on a link of a text/plain part (`url_offset.type` is `text`).
        case textClick = 4
    }

    public var kind: Kind
    public var messageID: String
    public var recipient: String
    /// The link's number in the message (click) or the unsubscribe group (0: none).
    public var index: Int
    /// The link's URL (click), the account (unsubscribe); empty for an open.
    public var url: String

    /// No token is longer (a click on a 2,000-character URL fits with room to spare).
    public static let maximumLength = 8192
    static let version: UInt8 = 1
    static let tagLength = 16

    public init(kind: Kind, messageID: String, recipient: String, index: Int = 0, url: String = "") {
        self.kind = kind
        self.messageID = messageID
        self.recipient = recipient
        self.index = index
        self.url = url
    }

    /// The token as it goes into a URL path: base64url without padding (RFC 4648 §5).
    public func sealed(with key: SymmetricKey) -> String {
        var payload: [UInt8] = [Self.version, kind.rawValue]
        for field in [messageID, recipient] { Self.append(field, to: &payload) }
        Self.appendNumber(UInt64(max(0, index)), to: &payload)
        Self.append(url, to: &payload)
        let tag = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return Self.base64URL(payload + Array(tag).prefix(Self.tagLength))
    }

    /// The token's content, or nil when it is malformed or its tag does not verify.
    public init?(opening token: some StringProtocol, with key: SymmetricKey) {
        guard token.utf8.count <= Self.maximumLength, let bytes = Self.fromBase64URL(token), bytes.count > Self.tagLength + 2 else { return nil }
        let payload = Array(bytes.dropLast(Self.tagLength))
        let tag = Array(bytes.suffix(Self.tagLength))
        let expected = Array(HMAC<SHA256>.authenticationCode(for: payload, using: key)).prefix(Self.tagLength)
        guard ConstantTime.equal(tag, Array(expected)) else { return nil }
        var reader = payload[...]
        guard reader.popFirst() == Self.version, let kind = reader.popFirst().flatMap(Kind.init(rawValue:)),
            let messageID = Self.readString(&reader), let recipient = Self.readString(&reader),
            let index = Self.readNumber(&reader), index <= UInt64(Int32.max), let url = Self.readString(&reader), reader.isEmpty
        else { return nil }
        self.init(kind: kind, messageID: messageID, recipient: recipient, index: Int(index), url: url)
    }

    static func append(_ text: String, to payload: inout [UInt8]) {
        appendNumber(UInt64(text.utf8.count), to: &payload)
        payload.append(contentsOf: text.utf8)
    }

    /// LEB128: seven bits a byte, low bits first.
    static func appendNumber(_ value: UInt64, to payload: inout [UInt8]) {
        var rest = value
        repeat {
            let low = UInt8(rest & 0x7F)
            rest >>= 7
            payload.append(rest == 0 ? low : low | 0x80)
        } while rest != 0
    }

    static func readNumber(_ reader: inout ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = reader.popFirst() {
            guard shift < 63 else { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    static func readString(_ reader: inout ArraySlice<UInt8>) -> String? {
        guard let count = readNumber(&reader), count <= UInt64(reader.count) else { return nil }
        let bytes = reader.prefix(Int(count))
        reader = reader.dropFirst(Int(count))
        return String(validating: bytes, as: UTF8.self)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Base64Text.encode(bytes)
        while text.last == "=" { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    static func fromBase64URL(_ token: some StringProtocol) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count + 3)
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            case UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="): return nil
            default: bytes.append(byte)
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Base64Text.decode(bytes)
    }
}
