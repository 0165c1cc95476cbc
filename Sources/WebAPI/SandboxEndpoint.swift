import Foundation
import HTTPTypes
import Hummingbird
import MailCore
import MailStore

/// The sandbox inbox: what a sandbox key or account sent, kept and never delivered.
/// `GET /v3/sandbox/messages`, `/v3/sandbox/messages/{id}`, and its source at `…/{id}/raw`.
struct SandboxEndpoint {
    let store: any SandboxRepository

    struct View: Encodable {
        var id: String
        var fromEmail: String
        var to: [String]
        var subject: String
        var created: String
        var size: Int
        var raw: String
        enum CodingKeys: String, CodingKey {
            case id, to, subject, created, size, raw
            case fromEmail = "from_email"
        }
        init(_ message: SandboxMessage) {
            id = message.id
            fromEmail = message.from
            to = message.recipients
            subject = message.subject ?? ""
            created = MessageDate.rfc3339(unixSeconds: message.createdAt)
            size = message.size
            raw = "/v3/sandbox/messages/\(message.id)/raw"
        }
    }

    struct Listing: Encodable {
        var messages: [View]
    }

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("sandbox/messages") { request, context in try await list(request, context) }
        router.get("sandbox/messages/:id") { _, context in try await show(context) }
        router.get("sandbox/messages/:id/raw") { _, context in try await raw(context) }
    }

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.messagesRead)
        var limit = 100
        if let text = request.uri.queryParameters["limit"] {
            guard let value = Int(text), (1...sandboxInboxSize).contains(value) else {
                throw APIFailure(.badRequest, "limit must be an integer from 1 to \(sandboxInboxSize)", field: "limit")
            }
            limit = value
        }
        return APIJSON.response(Listing(messages: try await store.sandboxMessages(account: key.user, limit: limit).map(View.init)))
    }

    func show(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.messagesRead)
        let id = try Self.id(context)
        // A message of this account's inbox (its newest thousand, the whole inbox).
        guard let message = try await store.sandboxMessages(account: key.user, limit: sandboxInboxSize).first(where: { $0.id == id }) else {
            throw APIFailure.notFound
        }
        return APIJSON.response(View(message))
    }

    func raw(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.messagesRead)
        guard let content = try await store.sandboxContent(account: key.user, id: try Self.id(context)) else { throw APIFailure.notFound }
        return Response(
            status: .ok, headers: [.contentType: "message/rfc822"], body: .init(byteBuffer: ByteBuffer(bytes: content)))
    }

    static func id(_ context: APIRequestContext) throws(APIFailure) -> String {
        guard let id = context.parameters.get("id"), id.utf8.count <= 64 else { throw APIFailure.notFound }
        return id
    }
}
