import MailCore

/// The signing algorithms Tern accepts. rsa-sha1 is gone: RFC 8301 §3.1 forbids signing and
/// verifying with it.
public enum DKIMAlgorithm: String, Sendable, Equatable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    /// The key type (`k=`) that goes with it.
    public var keyType: String { self == .rsaSHA256 ? "rsa" : "ed25519" }
}

/// Why a signature or key could not be used (RFC 6376 §6.1.1, §6.1.2), as text for reports.
public struct DKIMPermanentError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A parsed DKIM-Signature field (RFC 6376 §3.5).
public struct DKIMSignature: Sendable, Equatable {
    /// The most header names an `h=` tag may list.
    public static let maximumSignedHeaders = 200

    public var algorithm: DKIMAlgorithm
    public var signature: [UInt8]
    public var bodyHash: [UInt8]
    public var headerCanonicalization: DKIMCanonicalization
    public var bodyCanonicalization: DKIMCanonicalization
    /// The signing domain, lowercased.
    public var domain: String
    /// Signed header field names, in order, as written.
    public var signedHeaders: [String]
    /// The agent or user identifier; `@domain` when absent.
    public var identity: String
    public var bodyLength: Int?
    public var selector: String
    public var timestamp: Int?
    public var expiration: Int?

    public init(parsing value: String) throws(DKIMPermanentError) {
        let tags: TagList
        do {
            tags = try TagList(parsing: value)
        } catch {
            throw DKIMPermanentError("malformed signature: \(error)")
        }
        func required(_ name: String) throws(DKIMPermanentError) -> String {
            guard let v = tags[name] else { throw DKIMPermanentError("signature missing required tag \(name)=") }
            return v
        }
        guard try required("v") == "1" else { throw DKIMPermanentError("unsupported signature version \(tags["v"] ?? "")") }
        let a = try required("a").lowercased()
        guard let algorithm = DKIMAlgorithm(rawValue: a) else { throw DKIMPermanentError("unsupported algorithm \(a)") }
        self.algorithm = algorithm
        guard let b = Base64Text.decode(TagList.compact(try required("b"))), !b.isEmpty else { throw DKIMPermanentError("b= is not base64") }
        signature = b
        guard let bh = Base64Text.decode(TagList.compact(try required("bh"))), !bh.isEmpty else { throw DKIMPermanentError("bh= is not base64") }
        bodyHash = bh
        let c = (tags["c"] ?? "simple/simple").lowercased()
        let parts = c.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let hc = DKIMCanonicalization(rawValue: String(parts[0])),
            let bc = DKIMCanonicalization(rawValue: parts.count == 2 ? String(parts[1]) : "simple")
        else { throw DKIMPermanentError("unknown canonicalization \(c)") }
        headerCanonicalization = hc
        bodyCanonicalization = bc
        let d = try required("d").lowercased()
        guard !d.isEmpty, !d.hasPrefix("."), !d.hasSuffix(".") else { throw DKIMPermanentError("bad d= \(d)") }
        domain = d
        signedHeaders = try required("h").split(separator: ":").map { TagList.trim($0) }.filter { !$0.isEmpty }
        // Real signers list a few dozen names at most; more is only work for the verifier.
        guard signedHeaders.count <= Self.maximumSignedHeaders else {
            throw DKIMPermanentError("h= lists more than \(Self.maximumSignedHeaders) header fields")
        }
        // §5.4: the From field MUST be signed.
        guard signedHeaders.contains(where: { $0.lowercased() == "from" }) else { throw DKIMPermanentError("From is not signed") }
        let s = try required("s")
        guard !s.isEmpty else { throw DKIMPermanentError("empty s=") }
        selector = s
        identity = tags["i"] ?? "@\(d)"
        // §3.5 i=: its domain must be d= or below it.
        guard let at = identity.lastIndex(of: "@") else { throw DKIMPermanentError("i= has no @") }
        let identityDomain = identity[identity.index(after: at)...].lowercased()
        guard identityDomain == d || identityDomain.hasSuffix(".\(d)") else {
            throw DKIMPermanentError("i= domain \(identityDomain) is not within d= \(d)")
        }
        if let l = tags["l"] {
            guard !l.isEmpty, l.count <= 76, l.allSatisfy(\.isASCIIDigit), let n = Int(l) else { throw DKIMPermanentError("bad l= \(l)") }
            bodyLength = n
        }
        if let q = tags["q"], !q.split(separator: ":").contains(where: { TagList.trim($0).lowercased() == "dns/txt" }) {
            throw DKIMPermanentError("unsupported query method \(q)")
        }
        if let t = tags["t"] {
            guard let n = Int(t), n >= 0 else { throw DKIMPermanentError("bad t= \(t)") }
            timestamp = n
        }
        if let x = tags["x"] {
            guard let n = Int(x), n >= 0 else { throw DKIMPermanentError("bad x= \(x)") }
            expiration = n
            if let t = timestamp, n < t { throw DKIMPermanentError("x= is before t=") }
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A DKIM key record (RFC 6376 §3.6.1), published at `selector._domainkey.domain`.
public struct DKIMKeyRecord: Sendable, Equatable {
    public var keyType: String
    /// Decoded `p=`; empty means revoked.
    public var publicKey: [UInt8]
    /// Acceptable hash algorithms (`h=`), nil for any.
    public var hashAlgorithms: [String]?
    /// `t=y`: the domain is testing DKIM.
    public var testing: Bool
    /// `t=s`: i= must use exactly d=, no subdomain.
    public var strictIdentity: Bool

    public init(parsing text: String) throws(DKIMPermanentError) {
        let tags: TagList
        do {
            tags = try TagList(parsing: text)
        } catch {
            throw DKIMPermanentError("malformed key record: \(error)")
        }
        // v= is optional but, when present, must be first and DKIM1.
        if let v = tags["v"] {
            guard tags.tags.first?.name == "v", v == "DKIM1" else { throw DKIMPermanentError("bad key record version \(v)") }
        }
        keyType = (tags["k"] ?? "rsa").lowercased()
        guard let p = tags["p"] else { throw DKIMPermanentError("key record has no p=") }
        guard let key = Base64Text.decode(TagList.compact(p)) else { throw DKIMPermanentError("key p= is not base64") }
        publicKey = key
        hashAlgorithms = tags["h"].map { $0.split(separator: ":").map { TagList.trim($0).lowercased() } }
        if let s = tags["s"] {
            let services = s.split(separator: ":").map { TagList.trim($0).lowercased() }
            guard services.contains("*") || services.contains("email") else { throw DKIMPermanentError("key is not for email (s=\(s))") }
        }
        let flags = (tags["t"] ?? "").split(separator: ":").map { TagList.trim($0).lowercased() }
        testing = flags.contains("y")
        strictIdentity = flags.contains("s")
    }
}
