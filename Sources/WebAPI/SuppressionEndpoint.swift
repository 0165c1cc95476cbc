import Foundation
import Hummingbird
import MailCore
import MailStore
import SendGridProtocol

/// SendGrid's suppression API: the five global lists (`/v3/suppression/{list}`), global
/// unsubscribes (`/v3/asm/suppressions/global`), and suppression groups (`/v3/asm/groups`) with
/// their unsubscribes. Bounces, blocks and invalid addresses are filled by delivery itself.
struct SuppressionEndpoint {
    let store: any SuppressionRepository
    let clock: @Sendable () -> Int

    static let maximumEmailsPerRequest = 1000
    static let maximumGroups = 200
    static let maximumListPage = 500

    /// One entry as SendGrid lists it: the fields differ per list.
    struct Entry: Encodable {
        var suppression: Suppression
        enum CodingKeys: String, CodingKey { case created, email, reason, status, ip }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(suppression.createdAt, forKey: .created)
            try c.encode(suppression.email, forKey: .email)
            switch suppression.list {
            case .bounces, .blocks:
                try c.encode(suppression.reason ?? "", forKey: .reason)
                try c.encode(suppression.status ?? "", forKey: .status)
            case .invalidEmails:
                try c.encode(suppression.reason ?? "", forKey: .reason)
            case .spamReports:
                try c.encode(suppression.reason ?? "", forKey: .ip)
            case .unsubscribes, .group:
                break
            }
        }
    }

    struct DeleteBody: Decodable {
        var deleteAll: Bool?
        var emails: [String]?
        enum CodingKeys: String, CodingKey {
            case emails
            case deleteAll = "delete_all"
        }
    }

    struct Recipients: Codable {
        var recipientEmails: [String]
        enum CodingKeys: String, CodingKey { case recipientEmails = "recipient_emails" }
    }

    struct GroupBody: Decodable {
        var name: String?
        var description: String?
        var isDefault: Bool?
        enum CodingKeys: String, CodingKey {
            case name, description
            case isDefault = "is_default"
        }
    }

    struct GroupView: Encodable {
        var id: Int
        var name: String
        var description: String
        var isDefault: Bool
        var unsubscribes: Int?
        enum CodingKeys: String, CodingKey {
            case id, name, description, unsubscribes
            case isDefault = "is_default"
        }
        init(_ group: SuppressionGroup, unsubscribes: Int?) {
            id = group.id
            name = group.name
            description = group.description
            isDefault = group.isDefault
            self.unsubscribes = unsubscribes
        }
    }

    /// The five lists SendGrid names in its paths.
    static let pathLists: [String: SuppressionList] = [
        "bounces": .bounces, "blocks": .blocks, "spam_reports": .spamReports, "invalid_emails": .invalidEmails, "unsubscribes": .unsubscribes,
    ]

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("suppression/:list") { request, context in try await list(request, context) }
        router.get("suppression/:list/:email") { _, context in try await one(context) }
        router.delete("suppression/:list/:email") { _, context in try await removeOne(context) }
        router.delete("suppression/:list") { request, context in try await removeSome(request, context) }
        router.post("asm/suppressions/global") { request, context in try await addGlobal(request, context) }
        router.get("asm/suppressions/global/:email") { _, context in try await globalOne(context) }
        router.delete("asm/suppressions/global/:email") { _, context in try await removeGlobal(context) }
        router.get("asm/groups") { _, context in try await groups(context) }
        router.post("asm/groups") { request, context in try await createGroup(request, context) }
        router.get("asm/groups/:group") { _, context in try await group(context) }
        router.patch("asm/groups/:group") { request, context in try await updateGroup(request, context) }
        router.delete("asm/groups/:group") { _, context in try await removeGroup(context) }
        router.get("asm/groups/:group/suppressions") { _, context in try await groupSuppressions(context) }
        router.post("asm/groups/:group/suppressions") { request, context in try await addGroupSuppressions(request, context) }
        router.delete("asm/groups/:group/suppressions/:email") { _, context in try await removeGroupSuppression(context) }
    }

    // MARK: - The global lists

    func pathList(_ context: APIRequestContext) throws(APIFailure) -> SuppressionList {
        guard let name = context.parameters.get("list"), let list = Self.pathLists[name] else { throw APIFailure.notFound }
        return list
    }

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        let list = try pathList(context)
        let parameters = request.uri.queryParameters
        var errors: [APIError] = []
        func integer(_ name: String, _ range: ClosedRange<Int>) -> Int? {
            guard let text = parameters[name[...]] else { return nil }
            guard let value = Int(text), range.contains(value) else {
                errors.append(APIError("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)", field: name))
                return nil
            }
            return value
        }
        let start = integer("start_time", 0...Int(Int32.max))
        let end = integer("end_time", 0...Int(Int32.max))
        let limit = integer("limit", 1...Self.maximumListPage) ?? Self.maximumListPage
        let offset = integer("offset", 0...1_000_000) ?? 0
        let email = parameters["email"].map(String.init)
        guard errors.isEmpty else { throw APIFailure(.badRequest, errors) }
        let entries = try await store.suppressions(
            account: key.user, list: list, groupID: 0, email: email, from: start, to: end, limit: limit, offset: offset)
        return APIJSON.response(entries.map(Entry.init))
    }

    func one(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        let list = try pathList(context)
        let email = try Self.email(context)
        let entries = try await store.suppressions(account: key.user, list: list, groupID: 0, email: email, from: nil, to: nil, limit: 1, offset: 0)
        return APIJSON.response(entries.map(Entry.init))
    }

    func removeOne(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        let list = try pathList(context)
        guard try await store.removeSuppressions(account: key.user, list: list, groupID: 0, emails: [try Self.email(context)]) > 0 else {
            throw APIFailure.notFound
        }
        return Response(status: .noContent)
    }

    func removeSome(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        let list = try pathList(context)
        let body = try BodyReader.decode(DeleteBody.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        if body.deleteAll == true {
            _ = try await store.removeSuppressions(account: key.user, list: list, groupID: 0, emails: nil)
        } else if let emails = body.emails, !emails.isEmpty {
            guard emails.count <= Self.maximumEmailsPerRequest else {
                throw APIFailure(.badRequest, "at most \(Self.maximumEmailsPerRequest) emails at once", field: "emails")
            }
            _ = try await store.removeSuppressions(account: key.user, list: list, groupID: 0, emails: emails)
        } else {
            throw APIFailure(.badRequest, "give delete_all: true or a list of emails", field: "emails")
        }
        return Response(status: .noContent)
    }

    // MARK: - Global unsubscribes

    func addGlobal(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        let emails = try await recipients(request)
        try await store.addSuppressions(emails.map { Suppression(account: key.user, list: .unsubscribes, email: $0, createdAt: clock()) })
        return APIJSON.response(Recipients(recipientEmails: emails), status: .created)
    }

    func globalOne(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        let email = try Self.email(context)
        let found = try await store.suppressions(account: key.user, list: .unsubscribes, groupID: 0, email: email, from: nil, to: nil, limit: 1, offset: 0)
        return APIJSON.response(found.isEmpty ? [:] : ["recipient_email": found[0].email])
    }

    func removeGlobal(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        _ = try await store.removeSuppressions(account: key.user, list: .unsubscribes, groupID: 0, emails: [try Self.email(context)])
        return Response(status: .noContent)
    }

    // MARK: - Groups

    func groups(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        var views: [GroupView] = []
        for group in try await store.groups(account: key.user) {
            views.append(GroupView(group, unsubscribes: try await count(key.user, group.id)))
        }
        return APIJSON.response(views)
    }

    func createGroup(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.suppressions)
        let body = try BodyReader.decode(GroupBody.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        var errors: [APIError] = []
        if body.name.map({ $0.isEmpty || $0.count > 30 }) ?? true { errors.append(APIError("name is required, at most 30 characters", field: "name")) }
        if (body.description?.count ?? 0) > 100 { errors.append(APIError("description is at most 100 characters", field: "description")) }
        guard errors.isEmpty, let name = body.name else { throw APIFailure(.badRequest, errors) }
        guard try await store.groups(account: key.user).count < Self.maximumGroups else {
            throw APIFailure(.badRequest, "an account has at most \(Self.maximumGroups) groups")
        }
        let group = try await store.addGroup(
            account: key.user, name: name, description: body.description ?? "", isDefault: body.isDefault ?? false, at: clock())
        return APIJSON.response(GroupView(group, unsubscribes: nil), status: .created)
    }

    func group(_ context: APIRequestContext) async throws -> Response {
        let (key, group) = try await ownedGroup(context)
        return APIJSON.response(GroupView(group, unsubscribes: try await count(key.user, group.id)))
    }

    func updateGroup(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        var (_, group) = try await ownedGroup(context)
        let body = try BodyReader.decode(GroupBody.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        if let name = body.name {
            guard !name.isEmpty, name.count <= 30 else { throw APIFailure(.badRequest, "name is at most 30 characters", field: "name") }
            group.name = name
        }
        if let description = body.description {
            guard description.count <= 100 else { throw APIFailure(.badRequest, "description is at most 100 characters", field: "description") }
            group.description = description
        }
        if let isDefault = body.isDefault { group.isDefault = isDefault }
        guard try await store.updateGroup(group) else { throw APIFailure.notFound }
        return APIJSON.response(GroupView(group, unsubscribes: nil))
    }

    func removeGroup(_ context: APIRequestContext) async throws -> Response {
        let (key, group) = try await ownedGroup(context)
        guard try await store.removeGroup(id: group.id, account: key.user) else { throw APIFailure.notFound }
        return Response(status: .noContent)
    }

    func groupSuppressions(_ context: APIRequestContext) async throws -> Response {
        let (key, group) = try await ownedGroup(context)
        let entries = try await store.suppressions(
            account: key.user, list: .group, groupID: group.id, email: nil, from: nil, to: nil, limit: 100_000, offset: 0)
        return APIJSON.response(entries.map(\.email))
    }

    func addGroupSuppressions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (key, group) = try await ownedGroup(context)
        let emails = try await recipients(request)
        try await store.addSuppressions(emails.map { Suppression(account: key.user, list: .group, groupID: group.id, email: $0, createdAt: clock()) })
        return APIJSON.response(Recipients(recipientEmails: emails), status: .created)
    }

    func removeGroupSuppression(_ context: APIRequestContext) async throws -> Response {
        let (key, group) = try await ownedGroup(context)
        _ = try await store.removeSuppressions(account: key.user, list: .group, groupID: group.id, emails: [try Self.email(context)])
        return Response(status: .noContent)
    }

    // MARK: - Parts

    func ownedGroup(_ context: APIRequestContext) async throws -> (APIKeyRecord, SuppressionGroup) {
        let key = try context.requireScope(.suppressions)
        guard let id = context.parameters.get("group").flatMap(Int.init),
            let group = try await store.groups(account: key.user).first(where: { $0.id == id })
        else { throw APIFailure.notFound }
        return (key, group)
    }

    func count(_ account: String, _ group: Int) async throws -> Int {
        try await store.suppressions(account: account, list: .group, groupID: group, email: nil, from: nil, to: nil, limit: 100_000, offset: 0).count
    }

    /// `recipient_emails`: addresses, each valid, at most 1,000, lowercased.
    func recipients(_ request: Request) async throws -> [String] {
        let body = try BodyReader.decode(Recipients.self, from: try await BodyReader.bytes(of: request, limit: BodyReader.defaultLimit))
        guard !body.recipientEmails.isEmpty, body.recipientEmails.count <= Self.maximumEmailsPerRequest else {
            throw APIFailure(.badRequest, "give 1 to \(Self.maximumEmailsPerRequest) addresses", field: "recipient_emails")
        }
        var errors: [APIError] = []
        for (index, email) in body.recipientEmails.enumerated() where (try? MailboxAddress(parsing: email, allowUTF8: true)) == nil {
            errors.append(APIError("\(email) is not a valid address", field: "recipient_emails.\(index)"))
        }
        guard errors.isEmpty else { throw APIFailure(.badRequest, errors) }
        return body.recipientEmails.map { $0.lowercased() }
    }

    static func email(_ context: APIRequestContext) throws(APIFailure) -> String {
        guard let raw = context.parameters.get("email"), raw.utf8.count <= 320 else { throw APIFailure.notFound }
        return (raw.removingPercentEncoding ?? raw).lowercased()
    }
}
