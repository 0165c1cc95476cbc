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
