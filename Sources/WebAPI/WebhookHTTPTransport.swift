import AsyncHTTPClient
import DNSClient
import Foundation
import MailCore
import MailService
import NIOCore
import NIOHTTP1

/// Webhook batches over HTTP(S) with async-http-client. The host is looked up with Tern's own
/// resolver and the connection pinned to the address found (`dnsOverride`), so the address
/// checked is the address dialled: a DNS answer that changes between check and connect (DNS
/// rebinding) cannot send a request to loopback or a private network. Certificates are still
/// checked against the host name. No redirects are followed.
public struct WebhookHTTPTransport: WebhookTransport {
    let resolver: any DNSResolver
    let allowPrivate: Bool
    let eventLoopGroup: any EventLoopGroup
    /// The most of an answer read (it is not used, only drained).
    static let maximumAnswer = 64 * 1024

    public init(resolver: any DNSResolver, allowPrivate: Bool, eventLoopGroup: any EventLoopGroup) {
        self.resolver = resolver
        self.allowPrivate = allowPrivate
        self.eventLoopGroup = eventLoopGroup
    }

    public func post(url text: String, body: [UInt8], headers: [(name: String, value: String)]) async -> WebhookPostResult {
        let target: WebhookURL
        switch await WebhookURL.check(text, resolver: resolver, allowPrivate: allowPrivate) {
        case .success(let checked): target = checked
        case .failure(let refusal): return .failed(refusal.message)
        }
        var configuration = HTTPClient.Configuration()
        if target.address != target.host { configuration.dnsOverride = [target.host: target.address] }
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(20))
        let client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        let result = await send(text, body: body, headers: headers, with: client)
        try? await client.shutdown()
        return result
    }

    private func send(_ text: String, body: [UInt8], headers: [(name: String, value: String)], with client: HTTPClient) async -> WebhookPostResult {
        var request = HTTPClientRequest(url: text)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try? await response.body.collect(upTo: Self.maximumAnswer)
            return .answered(status: Int(response.status.code))
        } catch {
            return .failed("\(error)")
        }
    }
}

/// A webhook URL Tern may post to: http or https, a host, and an address that is public (or
/// allowed private). Checked when a webhook is saved and again before every delivery.
public struct WebhookURL: Hashable, Sendable {
    public var host: String
    /// The address to dial: the host itself when it is an IP literal.
    public var address: String

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
