/// A domain as it appears in an SMTP path: a host name or an address literal (RFC 5321 §4.1.2).
///
/// `name` keeps the text as the client sent it; `normalized` is the one form used for lookups
/// and comparison (lower-cased; address literals as written). Internationalised (U-label) names
/// are kept in UTF-8 and lower-cased; punycode conversion happens at the DNS edge.
public struct Domain: Hashable, Sendable, CustomStringConvertible {
    /// What kind of domain this is.
    public enum Kind: Hashable, Sendable {
        case name
        case ipv4Literal
        case ipv6Literal
        case generalLiteral
    }

    public let name: String
    public let kind: Kind

    /// The form used for comparison and lookups.
    public var normalized: String { name.lowercased() }

    public var description: String { name }

    /// RFC 5321 §4.5.3.1.2: the maximum total length of a domain name or number is 255 octets.
    public static let maximumLength = 255

    public init(validating text: String, allowUTF8: Bool = false) throws(AddressError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .emptyDomain }
        guard bytes.count <= Self.maximumLength else { throw .domainTooLong }
        if bytes.first == UInt8(ascii: "[") {
            guard bytes.last == UInt8(ascii: "]"), bytes.count > 2 else { throw .invalidDomain }
            let inner = String(decoding: bytes[1..<(bytes.count - 1)], as: UTF8.self)
            if IPv4Literal.isValid(inner) {
                self.kind = .ipv4Literal
            } else if inner.lowercased().hasPrefix("ipv6:") {
                guard IPv6Literal.isValid(String(inner.dropFirst(5))) else { throw .invalidDomain }
                self.kind = .ipv6Literal
            } else {
                // General-address-literal = Standardized-tag ":" 1*dcontent; we accept the form
                // but never route to it.
                guard let colon = inner.firstIndex(of: ":"), colon != inner.startIndex,
                    inner[inner.index(after: colon)...].utf8.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != 91 && $0 != 92 && $0 != 93 })
                else { throw .invalidDomain }
                self.kind = .generalLiteral
            }
            self.name = text
            return
        }
        // sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]; U-labels when SMTPUTF8.
        var labelLength = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0, previous != UInt8(ascii: "-") else { throw .invalidDomain }
                labelLength = 0
            } else if byte >= 0x80 {
                guard allowUTF8 else { throw .utf8NotAllowed }
                labelLength += 1
            } else if isLetterOrDigit(byte) {
                labelLength += 1
            } else if byte == UInt8(ascii: "-") {
                guard labelLength > 0 else { throw .invalidDomain }
                labelLength += 1
            } else {
                throw .invalidDomain
            }
            guard labelLength <= 63 else { throw .invalidDomain }
            previous = byte
        }
        guard labelLength > 0, previous != UInt8(ascii: "-") else { throw .invalidDomain }
        self.name = text
        self.kind = .name
    }

    public static func == (lhs: Domain, rhs: Domain) -> Bool { lhs.normalized == rhs.normalized }
    public func hash(into hasher: inout Hasher) { hasher.combine(normalized) }
}

@inline(__always)
func isLetterOrDigit(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

/// Dotted-quad IPv4 address literal text (RFC 5321 §4.1.3).
enum IPv4Literal {
    static func isValid(_ text: String) -> Bool {
        NetworkRange.parseAddress(text)?.count == 4 && text.allSatisfy { $0 == "." || $0.isNumber }
    }
}

/// IPv6 address literal text (RFC 5321 §4.1.3).
enum IPv6Literal {
    static func isValid(_ text: String) -> Bool {
        NetworkRange.parseAddress(text)?.count == 16
    }
}
