import DNSClient
import MailCore
import SMTPProtocol
import Synchronization

/// One host to dial, with its addresses in the order to try them.
public struct NextHop: Hashable, Sendable {
    public var host: String
    public var addresses: [String]
    public var port: Int

    public init(host: String, addresses: [String], port: Int) {
        self.host = host
        self.addresses = addresses
        self.port = port
    }
}

/// Where a recipient domain's mail goes (DESIGN.md "The delivery path").
public enum DeliveryRoute: Hashable, Sendable {
    /// A hosted domain: local delivery.
    case local
    /// Remote hosts in order; `destination` groups connections (the domain, or the route).
    case remote(destination: String, hops: [NextHop])
    /// No route: bounce (`isPermanent`) or try later, with this reply recorded.
    case unroutable(SMTPReply)
}

/// Decides routes: hosted domain → local; `[delivery.routes]` → that host; else MX by
/// preference (random among equals), the implicit MX when there is none, null MX → bounce
/// (RFC 5321 §5.1, RFC 7505).
public struct DeliveryRouter: Sendable {
    public let resolver: any DNSResolver
    public let routes: [String: StaticRoute]
    public let port: Int
    public let isLocal: @Sendable (String) async -> Bool
    /// Dial loopback, private and other non-public addresses learned from DNS (tests, labs);
    /// off by default, since a hostile zone could aim Tern at services behind its firewall.
    public let allowPrivateDestinations: Bool
    let shuffle: @Sendable ([DNSName]) -> [DNSName]

    public init(
        resolver: any DNSResolver, routes: [String: StaticRoute], port: Int, isLocal: @escaping @Sendable (String) async -> Bool,
        allowPrivateDestinations: Bool = false, shuffle: @escaping @Sendable ([DNSName]) -> [DNSName] = { $0.shuffled() }
    ) {
        self.allowPrivateDestinations = allowPrivateDestinations
        self.resolver = resolver
        self.routes = routes
        self.port = port
        self.isLocal = isLocal
        self.shuffle = shuffle
    }

    static let dnsTemporary = SMTPReply(451, EnhancedStatus(4, 4, 3), "Temporary DNS failure looking up the destination")

    /// Mail exchangers tried per domain at most, in preference order (Postfix's
    /// smtp_mx_address_limit plays the same part): a domain publishing hundreds of MX records
    /// cannot make one route cost hundreds of lookups.
    public static let maximumMXHosts = 10

    /// `route(domain:)`, or a temporary failure once `seconds` have passed: the lookup goes on in
    /// the background (the resolver's own timeouts end it) while its caller moves on.
    public func route(domain: String, within seconds: Double, clock: any DeliveryClock = SystemDeliveryClock()) async -> DeliveryRoute {
        let race = RouteRace()
        let router = self
        return await withCheckedContinuation { (continuation: CheckedContinuation<DeliveryRoute, Never>) in
            race.set(continuation)
            let timer = Task {
                await clock.sleep(for: .milliseconds(Int64(seconds * 1000)))
                guard !Task.isCancelled else { return }
                race.finish(.unroutable(SMTPReply(451, EnhancedStatus(4, 4, 3), "Looking up the route to \(domain) took too long")))
            }
            Task {
                race.finish(await router.route(domain: domain))
                timer.cancel()
            }
        }
    }

    public func route(domain rawDomain: String) async -> DeliveryRoute {
        let domain = rawDomain.lowercased()
        if await isLocal(domain) { return .local }
        if let route = routes[domain] {
            switch await lookUpAddresses(of: route.host) {
            case .found(let list):
                return .remote(destination: "\(route.host):\(route.port)", hops: [NextHop(host: route.host, addresses: list, port: route.port)])
            case .failed(let reply):
                return .unroutable(reply)
            }
        }
        // An address literal (RFC 5321 §4.1.3) is dialled as it is.
        if domain.hasPrefix("[") && domain.hasSuffix("]") {
            var literal = String(domain.dropFirst().dropLast())
            if literal.lowercased().hasPrefix("ipv6:") { literal = String(literal.dropFirst(5)) }
            guard allowPrivateDestinations || DestinationAddress.isPublic(literal) else {
                return .unroutable(Self.nonPublic("\(domain) is not a public address"))
            }
            return .remote(destination: domain, hops: [NextHop(host: domain, addresses: [literal], port: port)])
        }
        guard let name = try? DNSName(domain), !name.labels.isEmpty else {
            return .unroutable(SMTPReply(550, EnhancedStatus(5, 1, 2), "Invalid destination domain \(domain)"))
        }
        let mx: DNSAnswer
        do {
            mx = try await resolver.query(name, .mx)
        } catch {
            return .unroutable(Self.dnsTemporary)
        }
        if mx.nameDoesNotExist {
            return .unroutable(SMTPReply(550, EnhancedStatus(5, 1, 2), "Domain \(domain) does not exist (NXDOMAIN)"))
        }
        let records: [(preference: UInt16, exchange: DNSName)] = mx.records.compactMap {
            if case .mx(let preference, let exchange) = $0.data { return (preference, exchange) }
            return nil
        }
        switch MXRouting.route(domain: name, mxRecords: records, shuffle: shuffle) {
        case .nullMX:
            return .unroutable(SMTPReply(556, EnhancedStatus(5, 1, 10), "Domain \(domain) does not accept mail (null MX, RFC 7505)"))
        case .hosts(let all):
            // An exchange must be a host name (RFC 5321 §5.1: not an address literal, and no
            // bytes a header or log line could not carry); others are skipped.
            let usable = all.filter { $0.isHostname && (allowPrivateDestinations || !IPAddressText.isLiteral($0.description)) }
            // Every host's addresses at once, kept in preference order.
            let hosts = Array(usable.prefix(Self.maximumMXHosts))
            let lookups = await withTaskGroup(of: (Int, AddressLookup).self) { group in
                for (index, host) in hosts.enumerated() {
                    group.addTask { (index, await lookUpAddresses(of: host.description)) }
                }
                var found = [AddressLookup?](repeating: nil, count: hosts.count)
                for await (index, lookup) in group { found[index] = lookup }
                return found
            }
            var hops: [NextHop] = []
            var temporary = false
            var refused = usable.count < all.count
            for (host, lookup) in zip(hosts, lookups) {
                switch lookup {
                case .found(let list)? where !list.isEmpty:
                    let dialable = allowPrivateDestinations ? list : list.filter(DestinationAddress.isPublic)
                    if dialable.count < list.count { refused = true }
                    if !dialable.isEmpty { hops.append(NextHop(host: host.description, addresses: dialable, port: port)) }
                case .found?, nil: continue
                case .failed(let reply)?: if reply.isTransientFailure { temporary = true }
                }
            }
            if hops.isEmpty {
                if temporary { return .unroutable(Self.dnsTemporary) }
                if refused { return .unroutable(Self.nonPublic("The mail exchangers of \(domain) are not public hosts")) }
                return .unroutable(SMTPReply(550, EnhancedStatus(5, 4, 4), "No address found for the mail exchangers of \(domain)"))
            }
            return .remote(destination: domain, hops: hops)
        }
    }

    /// A destination Tern will not dial: loopback, private, link-local, CGNAT, an invalid host
    /// name or an address literal as MX (issue 12 item 4). Permanent: the DNS says so.
    static func nonPublic(_ text: String) -> SMTPReply {
        SMTPReply(550, EnhancedStatus(5, 4, 4), "\(text); not delivered to non-public addresses")
    }

    enum AddressLookup: Sendable {
        case found([String])
        case failed(SMTPReply)
    }

    /// A and AAAA of `host` (an IP literal is its own address).
    func lookUpAddresses(of host: String) async -> AddressLookup {
        if IPAddressText.isLiteral(host) { return .found([host]) }
        guard let name = try? DNSName(host) else {
            return .failed(SMTPReply(550, EnhancedStatus(5, 4, 4), "Invalid host name \(host)"))
        }
        do {
            return .found(try await resolver.addresses(name).map(IPAddressText.format))
        } catch {
            return .failed(Self.dnsTemporary)
        }
    }
}

/// IP addresses as text: telling a literal from a host name, and formatting resolved bytes.
public enum IPAddressText {
    public static func isLiteral(_ text: String) -> Bool {
        if text.contains(":") { return true }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }

    static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: bytes.count, by: 2) {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }
}

/// The first of two answers wins; the other is dropped.
private final class RouteRace: Sendable {
    private let continuation = Mutex<CheckedContinuation<DeliveryRoute, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<DeliveryRoute, Never>) { self.continuation.withLock { $0 = continuation } }

    func finish(_ route: DeliveryRoute) {
        continuation.withLock { stored -> CheckedContinuation<DeliveryRoute, Never>? in
            defer { stored = nil }
            return stored
        }?.resume(returning: route)
    }
}
