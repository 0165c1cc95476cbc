/// The answer to one question: the records of the asked type (CNAMEs already followed), or
/// NXDOMAIN. An empty answer without NXDOMAIN is NODATA (RFC 2308 §2.2).
public struct DNSAnswer: Hashable, Sendable {
    public var records: [DNSRecord]
    public var nameDoesNotExist: Bool

    public init(records: [DNSRecord], nameDoesNotExist: Bool = false) {
        self.records = records
        self.nameDoesNotExist = nameDoesNotExist
    }
}

/// Anything that answers DNS questions: the stub resolver over the network, or a zone in memory
/// for tests. Every mail-authentication check and the router take one (as mox's `dns.Resolver`).
public protocol DNSResolver: Sendable {
    func query(_ name: DNSName, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer
}

extension DNSResolver {
    /// MX records as (preference, exchange).
    public func mx(_ domain: DNSName) async throws(DNSError) -> [(preference: UInt16, exchange: DNSName)] {
        try await query(domain, .mx).records.compactMap {
            if case .mx(let preference, let exchange) = $0.data { return (preference, exchange) }
            return nil
        }
    }

    /// A and AAAA addresses as 4- or 16-byte arrays, IPv4 first.
    public func addresses(_ host: DNSName) async throws(DNSError) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for record in try await query(host, .a).records { if case .a(let bytes) = record.data { result.append(bytes) } }
        for record in try await query(host, .aaaa).records { if case .aaaa(let bytes) = record.data { result.append(bytes) } }
        return result
    }

    /// TXT records, each joined from its character-strings (RFC 7208 §3.3).
    public func txt(_ name: DNSName) async throws(DNSError) -> [String] {
        try await query(name, .txt).records.compactMap {
            if case .txt(let strings) = $0.data { return String(decoding: strings.joined(), as: UTF8.self) }
            return nil
        }
    }
}

/// A resolver answering from records held in memory, following CNAMEs like a recursive server.
public struct ZoneResolver: DNSResolver {
    public var records: [DNSRecord]
    /// Names that answer SERVFAIL, to test temporary failures.
    public var failing: Set<DNSName>

    public init(records: [DNSRecord], failing: Set<DNSName> = []) {
        self.records = records
        self.failing = failing
    }

    public func query(_ name: DNSName, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
        var current = name
        for _ in 0..<8 {  // CNAME chains are short; a loop ends here
            if failing.contains(current) { throw .serverFailure(2) }
            let atName = records.filter { $0.name == current }
            let matching = atName.filter { $0.type == type.rawValue }
            if !matching.isEmpty || type == .cname { return DNSAnswer(records: matching) }
            if let cname = atName.first(where: { $0.type == DNSRecordType.cname.rawValue }), case .cname(let target) = cname.data {
                current = target
                continue
            }
            return DNSAnswer(records: [], nameDoesNotExist: atName.isEmpty && !records.contains { $0.name.isSubdomain(of: current) })
        }
        throw .serverFailure(2)
    }
}

extension DNSName {
    /// Whether this name is `other` or below it.
    public func isSubdomain(of other: DNSName) -> Bool {
        guard labels.count >= other.labels.count else { return false }
        return (try? DNSName(labels: Array(labels.suffix(other.labels.count)))) == other
    }
}
