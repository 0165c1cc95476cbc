import DNSClient
import Foundation
import MailCore

/// A webhook URL Tern may post to: http or https, a host, and an address that is public (or
/// allowed private). Checked when a webhook is saved and again before every delivery.
public struct WebhookURL: Hashable, Sendable {
    public var host: String
    /// The address to dial: the host itself when it is an IP literal.
    public var address: String

    public init(host: String, address: String) {
        self.host = host
        self.address = address
    }

    public enum Refusal: Error, Hashable, Sendable {
        case malformed
        case unresolvable(String)
        case privateAddress(host: String, address: String)

        public var message: String {
            switch self {
            case .malformed: "the url must be an http:// or https:// URL with a host, at most 2048 characters"
            case .unresolvable(let host): "\(host) has no address"
            case .privateAddress(let host, let address):
                "\(host) resolves to \(address), a loopback or private address; webhooks go to public addresses only"
            }
        }
    }

    public static func check(_ text: String, resolver: any DNSResolver, allowPrivate: Bool) async -> Result<WebhookURL, Refusal> {
        guard text.utf8.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            var host = url.host, !host.isEmpty, url.user == nil
        else { return .failure(.malformed) }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let address: String
        if NetworkRange.parseAddress(host) != nil {
            address = host
        } else {
            guard let name = try? DNSName(host), let found = try? await resolver.addresses(name), let first = found.first else {
                return .failure(.unresolvable(host))
            }
            address = Self.text(first)
        }
        if !allowPrivate, !DestinationAddress.isPublic(address) { return .failure(.privateAddress(host: host, address: address)) }
        return .success(WebhookURL(host: host, address: address))
    }

    /// An address's text form (dotted quad, or eight IPv6 groups).
    static func text(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
