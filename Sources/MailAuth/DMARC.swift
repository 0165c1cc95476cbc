import DNSClient
import MailCore

/// A domain owner's requested handling of mail that fails DMARC (RFC 7489 §6.3 p=, sp=).
public enum DMARCPolicy: String, Sendable, Comparable {
    case none, quarantine, reject

    public static func < (a: DMARCPolicy, b: DMARCPolicy) -> Bool { a.rank < b.rank }
    var rank: Int { self == .none ? 0 : self == .quarantine ? 1 : 2 }

    /// One step gentler: what a message outside `pct` gets (§6.6.4).
    var downgraded: DMARCPolicy { self == .reject ? .quarantine : .none }
}

/// A published DMARC record (RFC 7489 §6.3).
public struct DMARCRecord: Sendable, Equatable {
    public var policy: DMARCPolicy
    public var subdomainPolicy: DMARCPolicy?
    public var strictDKIM: Bool
    public var strictSPF: Bool
    public var percent: Int

    /// nil when the text is not a usable DMARC record (wrong version, bad tags).
    public init?(parsing text: String) {
        guard let tags = try? TagList(parsing: text), tags.tags.first?.name == "v", tags["v"] == "DMARC1" else { return nil }
        let p = tags["p"].flatMap { DMARCPolicy(rawValue: $0.lowercased()) }
        let sp = tags["sp"].map { DMARCPolicy(rawValue: $0.lowercased()) }
        if p == nil || sp == .some(nil) {
            // §6.6.3: without a valid p= (or with a bad sp=), a record with a usable rua= is
            // taken as p=none; otherwise DMARC does not apply.
            guard let rua = tags["rua"], rua.lowercased().contains("mailto:") else { return nil }
            policy = .none
            subdomainPolicy = nil
        } else {
            policy = p!
            subdomainPolicy = sp ?? nil
        }
        strictDKIM = tags["adkim"]?.lowercased() == "s"
        strictSPF = tags["aspf"]?.lowercased() == "s"
        if let pct = tags["pct"] {
            guard let n = Int(pct), (0...100).contains(n) else { return nil }
            percent = n
        } else {
            percent = 100
        }
    }
}

public enum DMARCResult: String, Sendable, Equatable {
    case pass, fail, none, temperror, permerror
}

public struct DMARCOutcome: Sendable, Equatable {
    public var result: DMARCResult
    /// The RFC5322.From domain evaluated (the first, when there were several).
    public var fromDomain: String?
    /// The policy the domain publishes for this message (p= or sp=).
    public var policy: DMARCPolicy?
    /// What to do with the message: the policy after pct= sampling; `.none` on a pass.
    public var disposition: DMARCPolicy
    public var spfAligned = false
    public var dkimAligned = false
    public var reason: String?

    public init(result: DMARCResult, fromDomain: String? = nil, policy: DMARCPolicy? = nil, disposition: DMARCPolicy = .none, reason: String? = nil) {
        self.result = result
        self.fromDomain = fromDomain
        self.policy = policy
        self.disposition = disposition
        self.reason = reason
    }
}

/// DMARC evaluation (RFC 7489 §6.6): policy discovery at the From domain then at its
/// organizational domain, identifier alignment of SPF and DKIM, p/sp/pct.
public struct DMARCVerifier: Sendable {
    public let resolver: any DNSResolver
    public let suffixes: PublicSuffixList
    /// 0..<100, for pct= sampling; injected so tests decide.
    public var sample: @Sendable () -> Int

    public init(resolver: any DNSResolver, suffixes: PublicSuffixList, sample: @escaping @Sendable () -> Int = { Int.random(in: 0..<100) }) {
        self.resolver = resolver
        self.suffixes = suffixes
        self.sample = sample
    }

    /// The From addresses' domains; the message must have exactly one From with one address.
    public static func fromDomains(_ message: [UInt8]) -> [String] {
        MessageHeader(parsing: message).fields(named: "from").flatMap { AddressList.addrSpecs(in: $0.unfoldedValue) }.compactMap { spec in
            guard let at = spec.lastIndex(of: "@") else { return nil }
            let domain = spec[spec.index(after: at)...].lowercased()
            return domain.isEmpty ? nil : domain
        }
    }

    public func evaluate(message: [UInt8], spf: SPFOutcome?, dkim: [DKIMResult]) async -> DMARCOutcome {
        let header = MessageHeader(parsing: message)
        let fromFields = header.fields(named: "from")
        let domains = Self.fromDomains(message)
        guard fromFields.count == 1, domains.count == 1 else {
            // §6.6.1: not one From with one address. It fails; the strictest policy among the
            // domains named applies, so a second address cannot dodge p=reject.
            var strictest: DMARCPolicy?
            for domain in Set(domains) {
                if case .found(let record, let atOrganization)? = try? await discover(domain) {
                    let policy = atOrganization ? (record.subdomainPolicy ?? record.policy) : record.policy
                    strictest = max(strictest ?? .none, policy)
                }
            }
            return DMARCOutcome(
                result: .fail, fromDomain: domains.first, policy: strictest, disposition: strictest ?? .none,
                reason: fromFields.count == 1 ? "From holds \(domains.count) addresses" : "message has \(fromFields.count) From fields")
        }
        let fromDomain = domains[0]
        let discovery: Discovery
        do {
            discovery = try await discover(fromDomain)
        } catch {
            return DMARCOutcome(result: .temperror, fromDomain: fromDomain, reason: "DNS error looking up the DMARC record")
        }
        guard case .found(let record, let atOrganization) = discovery else {
            return DMARCOutcome(result: .none, fromDomain: fromDomain, reason: "no DMARC record")
        }
        let policy = atOrganization ? (record.subdomainPolicy ?? record.policy) : record.policy
        var outcome = DMARCOutcome(result: .fail, fromDomain: fromDomain, policy: policy)
        if let spf, spf.result == .pass { outcome.spfAligned = aligned(spf.domain, fromDomain, strict: record.strictSPF) }
        outcome.dkimAligned = dkim.contains { $0.status == .pass && $0.domain.map { aligned($0, fromDomain, strict: record.strictDKIM) } == true }
        if outcome.spfAligned || outcome.dkimAligned {
            outcome.result = .pass
            return outcome
        }
        outcome.reason = "neither SPF nor DKIM passed aligned with \(fromDomain)"
        outcome.disposition = sample() < record.percent ? policy : policy.downgraded
        return outcome
    }

    func aligned(_ a: String, _ b: String, strict: Bool) -> Bool {
        let x = a.lowercased().trimmingTrailingDot, y = b.lowercased().trimmingTrailingDot
        return strict ? x == y : suffixes.organizationalDomain(x) == suffixes.organizationalDomain(y)
    }

    enum Discovery {
        case found(DMARCRecord, atOrganization: Bool)
        case absent
    }

    /// §6.6.3: `_dmarc.<From domain>`, then `_dmarc.<organizational domain>`.
    func discover(_ domain: String) async throws(DNSError) -> Discovery {
        if let record = try await lookup(domain) { return .found(record, atOrganization: false) }
        let organization = suffixes.organizationalDomain(domain)
        if organization != domain, let record = try await lookup(organization) { return .found(record, atOrganization: true) }
        return .absent
    }

    func lookup(_ domain: String) async throws(DNSError) -> DMARCRecord? {
        guard let name = try? DNSName("_dmarc.\(domain)") else { return nil }
        let texts = try await resolver.txt(name).filter { $0.hasPrefix("v=DMARC1") }
        // Several records: no policy (§6.6.3).
        guard texts.count == 1 else { return nil }
        return DMARCRecord(parsing: texts[0])
    }
}

extension String {
    var trimmingTrailingDot: String { hasSuffix(".") ? String(dropLast()) : self }
}
