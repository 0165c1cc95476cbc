import Hummingbird
import MailStore
import NIOCore

/// What a request carries through the router: the client's address (for abuse limits and the
/// trace field) and, once `APIKeyAuthentication` has run, the key it presented.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, "" when unknown.
    public var clientAddress: String
    /// Whether the request came over TLS (the `https` listener).
    public var overTLS: Bool = false
    /// The key the request authenticated with.
    public var key: APIKeyRecord?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? ""
    }

    /// Request bodies are read by each endpoint with its own limit (`BodyReader`).
    public var maxUploadSize: Int { BodyReader.defaultLimit }

    /// The authenticated key; only endpoints behind `APIKeyAuthentication` ask.
    func requireKey() throws(APIFailure) -> APIKeyRecord {
        guard let key else { throw .unauthorized }
        return key
    }

    /// The key, when it has `scope`; 403 otherwise (SendGrid's answer to a key without it).
    func requireScope(_ scope: APIScope) throws(APIFailure) -> APIKeyRecord {
        let key = try requireKey()
        guard key.scopes.allows(scope) else { throw .forbidden }
        return key
    }
}
