import MailCore

/// What abuse limits count a client by: its IPv4 address, or the /64 its IPv6 address is in.
///
/// One IPv6 host usually holds a whole /64 (RFC 4291 §2.5.4 interface identifiers, RFC 8981
/// temporary addresses), so counting single IPv6 addresses would let one client rotate through
/// 2^64 fresh addresses and never be slowed down.
public struct ClientKey: Hashable, Sendable, CustomStringConvertible {
    public let description: String

    public init(address: String) {
        guard let bytes = NetworkRange.parseAddress(address), bytes.count == 16 else {
            description = address
            return
        }
        // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 client it maps.
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            description = bytes[12...].map(String.init).joined(separator: ".")
            return
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        description = groups.joined(separator: ":") + "::/64"
    }
}
