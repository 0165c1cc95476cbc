import Hummingbird
import MailService
import MailStore
import NIOCore
import SendGridProtocol

/// SendGrid's `/v3/api_keys`: list, create, read, rename, replace scopes, revoke. A key may
/// manage only its own account's keys, and may not give a new key a scope it lacks itself.
struct APIKeysEndpoint {
    let administration: Administration
    let directory: any DirectoryRepository

    struct CreateBody: Decodable {
        var name: String?
        var scopes: [String]?
    }

    struct KeyView: Encodable {
        var apiKeyID: String
        var name: String
        var scopes: [String]?
        enum CodingKeys: String, CodingKey {
            case apiKeyID = "api_key_id"
            case name, scopes
        }
        init(_ record: APIKeyRecord, withScopes: Bool) {
            apiKeyID = record.id
            name = record.name
            scopes = withScopes ? Self.names(record.scopes) : nil
        }
        static func names(_ scopes: Set<APIScope>) -> [String] { scopes.sorted().map(\.rawValue) }
    }

    struct Created: Encodable {
        var apiKey: String
        var apiKeyID: String
        var name: String
        var scopes: [String]
        enum CodingKeys: String, CodingKey {
            case apiKey = "api_key"
            case apiKeyID = "api_key_id"
            case name, scopes
        }
    }

    struct Listing: Encodable {
        var result: [KeyView]
    }

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("api_keys") { request, context in try await list(request, context) }
        router.post("api_keys") { request, context in try await create(request, context) }
        router.get("api_keys/:id") { _, context in try await show(context) }
        router.patch("api_keys/:id") { request, context in try await update(request, context, replacingScopes: false) }
        router.put("api_keys/:id") { request, context in try await update(request, context, replacingScopes: true) }
        router.delete("api_keys/:id") { _, context in try await revoke(context) }
    }

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.apiKeys)
        var limit = Int.max
        if let text = request.uri.queryParameters["limit"] {
            guard let value = Int(text), value >= 1 else { throw APIFailure(.badRequest, "limit must be a positive integer", field: "limit") }
            limit = value
        }
        let keys = try await administration.apiKeys(of: key.user).filter { $0.revokedAt == nil }.prefix(limit)
        return APIJSON.response(Listing(result: keys.map { KeyView($0, withScopes: false) }))
    }

    func create(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.apiKeys)
        let body = try BodyReader.decode(CreateBody.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        guard let name = body.name, !name.isEmpty else { throw APIFailure(.badRequest, "missing required argument", field: "name") }
        let scopes = try Self.scopes(body.scopes, grantedBy: key) ?? key.scopes
        do {
            let made = try await administration.createAPIKey(for: key.user, name: name, scopes: scopes)
            return APIJSON.response(
                Created(apiKey: made.text, apiKeyID: made.record.id, name: name, scopes: KeyView.names(made.record.scopes)), status: .created)
        } catch .invalid(let message) {
            throw APIFailure(.badRequest, message)
        } catch {
            throw APIFailure(.internalServerError, "the key could not be stored")
        }
    }

    func show(_ context: APIRequestContext) async throws -> Response {
        let record = try owned(context)
        return APIJSON.response(Listing(result: [KeyView(record, withScopes: true)]))
    }

    func update(_ request: Request, _ context: APIRequestContext, replacingScopes: Bool) async throws -> Response {
        let key = try context.requireScope(.apiKeys)
        let record = try owned(context)
        let body = try BodyReader.decode(CreateBody.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        guard let name = body.name, !name.isEmpty else { throw APIFailure(.badRequest, "missing required argument", field: "name") }
        let scopes = replacingScopes ? try Self.scopes(body.scopes, grantedBy: key) : nil
        do {
            try await administration.updateAPIKey(id: record.id, name: name, scopes: scopes)
        } catch .invalid(let message) {
            throw APIFailure(.badRequest, message)
        } catch .notFound {
            throw APIFailure.notFound
        } catch {
            throw APIFailure(.internalServerError, "the key could not be stored")
        }
        var updated = record
        updated.name = name
        if let scopes { updated.scopes = scopes }
        return APIJSON.response(KeyView(updated, withScopes: replacingScopes))
    }

    func revoke(_ context: APIRequestContext) async throws -> Response {
        let record = try owned(context)
        do {
            try await administration.revokeAPIKey(id: record.id)
        } catch .notFound {
            throw APIFailure.notFound
        } catch {
            throw APIFailure(.internalServerError, "the key could not be revoked")
        }
        return Response(status: .noContent)
    }

    /// The live key named in the path, when it belongs to the caller's account; 404 otherwise
    /// (another account's key is not acknowledged to exist).
    private func owned(_ context: APIRequestContext) throws(APIFailure) -> APIKeyRecord {
        let key = try context.requireScope(.apiKeys)
        guard let id = context.parameters.get("id"), let record = try? directory.apiKey(id: id), record.user == key.user,
            record.revokedAt == nil
        else { throw .notFound }
        return record
    }

    /// The scopes a request names, each known and held by the granting key; nil when none named.
    static func scopes(_ names: [String]?, grantedBy key: APIKeyRecord) throws(APIFailure) -> Set<APIScope>? {
        guard let names else { return nil }
        var errors: [APIError] = []
        var scopes: Set<APIScope> = []
        for (index, name) in names.enumerated() {
            guard let scope = APIScope(name: name) else {
                errors.append(APIError("unknown scope \(name)", field: "scopes.\(index)"))
                continue
            }
            if scope == .full ? !key.scopes.contains(.full) : !key.scopes.allows(scope) {
                errors.append(APIError("a key cannot grant the scope \(name), which it does not have", field: "scopes.\(index)"))
            }
            scopes.insert(scope)
        }
        guard errors.isEmpty else { throw APIFailure(.badRequest, errors) }
        guard !scopes.isEmpty else { throw APIFailure(.badRequest, "a key needs at least one scope", field: "scopes") }
        return scopes
    }
}
