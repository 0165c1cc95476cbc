/// The reverse path of MAIL FROM: a mailbox, or the null path `<>` used by bounces (RFC 5321 §4.5.5).
public enum ReversePath: Hashable, Sendable, CustomStringConvertible {
    case null
    case mailbox(MailboxAddress)

    /// The address text without brackets; "" for the null path.
    public var description: String {
        switch self {
        case .null: ""
        case .mailbox(let m): m.description
        }
    }

    public var mailbox: MailboxAddress? {
        if case .mailbox(let m) = self { return m }
        return nil
    }

    /// Parses `"<>" / Path` (RFC 5321 §4.1.2 Reverse-path).
    public init(parsing text: String, allowUTF8: Bool = false) throws(AddressError) {
        if text == "<>" {
            self = .null
            return
        }
        self = .mailbox(try PathParser.parse(text, allowUTF8: allowUTF8))
    }
}

/// The forward path of RCPT TO: a mailbox, or the bare `<Postmaster>` (RFC 5321 §4.1.1.3).
public enum ForwardPath: Hashable, Sendable, CustomStringConvertible {
    case postmaster
    case mailbox(MailboxAddress)

    public var description: String {
        switch self {
        case .postmaster: "Postmaster"
        case .mailbox(let m): m.description
        }
    }

    public var mailbox: MailboxAddress? {
        if case .mailbox(let m) = self { return m }
        return nil
    }

    /// Parses `"<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path`.
    public init(parsing text: String, allowUTF8: Bool = false) throws(AddressError) {
        if text.lowercased() == "<postmaster>" {
            self = .postmaster
            return
        }
        self = .mailbox(try PathParser.parse(text, allowUTF8: allowUTF8))
    }
}

/// Path = "<" [ A-d-l ":" ] Mailbox ">" (RFC 5321 §4.1.2).
enum PathParser {
    /// RFC 5321 §4.5.3.1.3: the maximum total length of a reverse-path or forward-path is 256
    /// octets (including the punctuation and element separators).
    static let maximumPathLength = 256

    static func parse(_ text: String, allowUTF8: Bool) throws(AddressError) -> MailboxAddress {
        let bytes = text.utf8
        if bytes.contains(where: { $0 == 0 || $0 == 0x0D || $0 == 0x0A }) { throw .forbiddenCharacter }
        guard bytes.count <= maximumPathLength else { throw .pathTooLong }
        guard text.hasPrefix("<"), text.hasSuffix(">"), bytes.count >= 2 else { throw .missingAngleBrackets }
        var inner = Substring(text.dropFirst().dropLast())
        if inner.hasPrefix("@") {
            // RFC 5321 §4.1.1.3: servers SHOULD accept source routes and MUST ignore them.
            guard let colon = inner.firstIndex(of: ":") else { throw .invalidRoute }
            let route = inner[inner.index(after: inner.startIndex)..<colon]
            for hop in route.split(separator: ",", omittingEmptySubsequences: false) {
                var hop = hop
                if hop.hasPrefix("@") { hop = hop.dropFirst() }
                do { _ = try Domain(validating: String(hop), allowUTF8: allowUTF8) } catch { throw .invalidRoute }
            }
            inner = inner[inner.index(after: colon)...]
        }
        return try MailboxAddress(parsing: String(inner), allowUTF8: allowUTF8)
    }
}
