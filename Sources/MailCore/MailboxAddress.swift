/// An RFC 5321 mailbox: `Local-part "@" ( Domain / address-literal )` (§4.1.2).
public struct MailboxAddress: Hashable, Sendable, CustomStringConvertible {
    /// The local part as sent (quoted strings keep their quotes).
    public let localPart: String
    public let domain: Domain

    /// RFC 5321 §4.5.3.1.1: the maximum total length of a user name or other local-part is 64 octets.
    public static let maximumLocalPartLength = 64

    public init(localPart: String, domain: Domain) {
        self.localPart = localPart
        self.domain = domain
    }

    /// `local@domain` as it would be written in a path.
    public var description: String { "\(localPart)@\(domain.name)" }

    /// The one normalised form used for lookups: the local part lower-cased (as Postfix and
    /// Dovecot treat hosted users), the domain lower-cased.
    public var normalized: String { "\(localPart.lowercased())@\(domain.normalized)" }

    /// Whether any part needs SMTPUTF8 (RFC 6531 §3.3).
    public var requiresSMTPUTF8: Bool { description.utf8.contains { $0 >= 0x80 } }

    /// Parses `local@domain` (no angle brackets).
    public init(parsing text: String, allowUTF8: Bool = false) throws(AddressError) {
        let bytes = Array(text.utf8)
        guard let at = Self.localPartEnd(bytes) else {
            throw bytes.isEmpty ? .emptyLocalPart : (bytes.contains(UInt8(ascii: "@")) ? .invalidLocalPart : .missingDomain)
        }
        let local = Array(bytes[..<at])
        try Self.validateLocalPart(local, allowUTF8: allowUTF8)
        let domainText = String(decoding: bytes[(at + 1)...], as: UTF8.self)
        self.localPart = String(decoding: local, as: UTF8.self)
        self.domain = try Domain(validating: domainText, allowUTF8: allowUTF8)
    }

    /// Index of the `@` that ends the local part, honouring a quoted-string local part.
    static func localPartEnd(_ bytes: [UInt8]) -> Int? {
        guard !bytes.isEmpty else { return nil }
        if bytes[0] == UInt8(ascii: "\"") {
            var i = 1
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "\\") {
                    i += 2
                    continue
                }
                if bytes[i] == UInt8(ascii: "\"") {
                    let next = i + 1
                    return next < bytes.count && bytes[next] == UInt8(ascii: "@") ? next : nil
                }
                i += 1
            }
            return nil
        }
        return bytes.firstIndex(of: UInt8(ascii: "@"))
    }

    /// Local-part = Dot-string / Quoted-string (RFC 5321 §4.1.2).
    static func validateLocalPart(_ local: [UInt8], allowUTF8: Bool) throws(AddressError) {
        guard !local.isEmpty else { throw .emptyLocalPart }
        guard local.count <= maximumLocalPartLength else { throw .localPartTooLong }
        if local.contains(where: { $0 < 0x20 || $0 == 0x7F }) { throw .forbiddenCharacter }
        if local.contains(where: { $0 >= 0x80 }) {
            guard allowUTF8 else { throw .utf8NotAllowed }
            guard String(validating: local, as: UTF8.self) != nil else { throw .invalidLocalPart }
        }
        if local[0] == UInt8(ascii: "\"") {
            // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
            guard local.count >= 2, local.last == UInt8(ascii: "\"") else { throw .invalidLocalPart }
            var i = 1
            while i < local.count - 1 {
                let b = local[i]
                if b == UInt8(ascii: "\\") {
                    guard i + 1 < local.count - 1, local[i + 1] >= 32, local[i + 1] <= 126 else { throw .invalidLocalPart }
                    i += 2
                    continue
                }
                guard b != UInt8(ascii: "\"") else { throw .invalidLocalPart }
                i += 1
            }
            return
        }
        // Dot-string = Atom *("." Atom)
        var atomLength = 0
        for b in local {
            if b == UInt8(ascii: ".") {
                guard atomLength > 0 else { throw .invalidLocalPart }
                atomLength = 0
            } else {
                guard b >= 0x80 || isAtext(b) else { throw .invalidLocalPart }
                atomLength += 1
            }
        }
        guard atomLength > 0 else { throw .invalidLocalPart }
    }
}

/// atext (RFC 5322 §3.2.3): ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~"
@inline(__always)
func isAtext(_ b: UInt8) -> Bool {
    if isLetterOrDigit(b) { return true }
    switch b {
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"),
        UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
        UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}
