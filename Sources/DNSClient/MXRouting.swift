/// Where to deliver for a domain (RFC 5321 §5.1): MX hosts by preference, random among equal
/// preference; the domain itself when it has no MX (implicit MX); nowhere for a null MX (RFC 7505).
public enum MXRouting {
    public enum Route: Hashable, Sendable {
        /// Hosts to try in order.
        case hosts([DNSName])
        /// RFC 7505: the domain accepts no mail (a single MX "." of preference 0).
        case nullMX
    }

    /// - Parameter shuffle: orders equal-preference hosts (injected so tests are repeatable).
    public static func route(
        domain: DNSName, mxRecords: [(preference: UInt16, exchange: DNSName)],
        shuffle: ([DNSName]) -> [DNSName] = { $0.shuffled() }
    ) -> Route {
        if mxRecords.isEmpty { return .hosts([domain]) }
        // RFC 7505 §3: a null MX is the only MX record, with an empty (root) exchange.
        if mxRecords.contains(where: { $0.exchange.labels.isEmpty }) {
            return mxRecords.count == 1 ? .nullMX : .hosts(orderedHosts(mxRecords.filter { !$0.exchange.labels.isEmpty }, shuffle: shuffle))
        }
        return .hosts(orderedHosts(mxRecords, shuffle: shuffle))
    }

    static func orderedHosts(_ records: [(preference: UInt16, exchange: DNSName)], shuffle: ([DNSName]) -> [DNSName]) -> [DNSName] {
        let groups = Dictionary(grouping: records, by: \.preference)
        var hosts: [DNSName] = []
        for preference in groups.keys.sorted() {
            for host in shuffle(groups[preference]!.map(\.exchange)) where !hosts.contains(host) {
                hosts.append(host)
            }
        }
        return hosts
    }
}
