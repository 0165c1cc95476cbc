import Hummingbird
import MailService
import MailStore

/// `Authorization: Bearer <key>` (RFC 6750 §2.1), checked for every endpoint behind it. A
/// missing, malformed, unknown or revoked key is SendGrid's 401; failures count against the
/// client in the same `AbuseLimits` as SMTP AUTH and POP3, so guessing keys over HTTP is
/// slowed and then blocked like guessing passwords.
struct APIKeyAuthentication: RouterMiddleware {
    typealias Context = APIRequestContext
    let authenticator: AccountAuthenticator
    let limits: AbuseLimits

    func handle(_ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response) async throws -> Response {
        let client = context.clientAddress
        // No key at all is not a guess: 401, not counted. A key that is presented and wrong
        // counts as a failed login, and a client past the limit gets 429 until the block ends.
        guard let text = Self.bearerToken(request.headers[.authorization]) else { throw Self.unauthorized }
        if limits.loginBlocked(from: client) {
            throw APIFailure(.tooManyRequests, "Too many failed authentications from this address; try again later")
        }
        guard let key = authenticator.apiKey(text: text) else {
            let penalty = limits.loginFailed(from: client, protocol: "http")
            if penalty.delay > .zero { try? await Task.sleep(for: penalty.delay) }
            throw Self.unauthorized
        }
        limits.loginSucceeded(from: client)
        var context = context
        context.key = key
        return try await next(request, context)
    }

    static var unauthorized: APIFailure {
        var failure = APIFailure.unauthorized
        failure.headers[.wwwAuthenticate] = "Bearer"
        return failure
    }

    /// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1).
    static func bearerToken(_ value: String?) -> String? {
        guard let value, value.utf8.count <= 512 else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
