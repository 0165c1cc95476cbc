/// Whether an address learned from public DNS may be dialled (issue 12 item 4). Mail and
/// webhooks to a name whose MX or A record points into loopback, a private network, link-local,
/// CGNAT or another non-public range would let anyone who controls a DNS zone make Tern connect
/// to services behind its own firewall (SSRF), so such addresses are refused unless a static
/// route or `[delivery] allow_private_destinations` says otherwise.
public enum DestinationAddress {
    /// Ranges where a host behind Tern's own firewall may live, or that are no destination at
    /// all (RFC 6890's special-purpose registries). The documentation ranges (RFC 5737, RFC 3849)
    /// are left dialable: no real host answers there, and tests use them.
    public static let nonPublicRanges: [NetworkRange] = [
        "0.0.0.0/8",  // "this network", the unspecified address
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  // RFC 1918
        "100.64.0.0/10",  // CGNAT, RFC 6598
        "127.0.0.0/8",  // loopback
        "169.254.0.0/16",  // link-local
        "192.0.0.0/24",  // IETF protocol assignments
        "224.0.0.0/4", "240.0.0.0/4",  // multicast, reserved, broadcast
        "::/128", "::1/128",  // unspecified, loopback
        "fc00::/7",  // unique local, RFC 4193
        "fe80::/10",  // link-local
        "ff00::/8",  // multicast
        "100::/64",  // discard-only, RFC 6666
    ].map { NetworkRange($0)! }

    /// IPv6 forms that carry an IPv4 address inside: IPv4-mapped, NAT64 (RFC 6052), 6to4.
    static let embeddingIPv4: [(range: NetworkRange, offset: Int)] = [
        (NetworkRange("::ffff:0:0/96")!, 12), (NetworkRange("64:ff9b::/96")!, 12), (NetworkRange("2002::/16")!, 2),
    ]

    /// True when `ip` is a public unicast address; false for the ranges above, for IPv6 forms
    /// embedding such an IPv4 address, and for text that is not an address.
    public static func isPublic(_ ip: String) -> Bool {
        guard let bytes = NetworkRange.parseAddress(ip) else { return false }
        if nonPublicRanges.contains(where: { $0.contains(ip) }) { return false }
        if bytes.count == 16 {
            for (range, offset) in embeddingIPv4 where range.contains(ip) {
                let inner = bytes[offset..<offset + 4].map(String.init).joined(separator: ".")
                return isPublic(inner)
            }
        }
        return true
    }
}
