import Foundation
import Hummingbird
import MailCore
import MailService
import MailStore

/// SendGrid's transactional templates: `/v3/templates` (create, list, get, rename, delete) and
/// `/v3/templates/{id}/versions[/{version_id}[/activate]]`, over `TemplateCatalog`. A version
/// whose Handlebars does not parse is a 400 naming the field and line.
struct TemplatesEndpoint {
    let catalog: TemplateCatalog

    struct CreateBody: Decodable {
        var name: String?
        var generation: String?
    }

    struct VersionBody: Decodable {
        var name: String?
        var subject: String?
        var htmlContent: String?
        var plainContent: String?
        var active: Int?
        enum CodingKeys: String, CodingKey {
            case name, subject, active
            case htmlContent = "html_content"
            case plainContent = "plain_content"
        }
    }

    struct VersionView: Encodable {
        var id: String
        var templateID: String
        var name: String
        var subject: String
        var htmlContent: String
        var plainContent: String
        var active: Int
        var updatedAt: String
        enum CodingKeys: String, CodingKey {
            case id, name, subject, active
            case templateID = "template_id"
            case htmlContent = "html_content"
            case plainContent = "plain_content"
            case updatedAt = "updated_at"
        }
        init(_ version: TemplateVersion) {
            id = version.id
            templateID = version.templateID
            name = version.name
            subject = version.subject
            htmlContent = version.htmlContent
            plainContent = version.plainContent
            active = version.active ? 1 : 0
            updatedAt = Self.timestamp(version.updatedAt)
        }
        /// SendGrid's form: `YYYY-MM-DD HH:MM:SS` (UTC).
        static func timestamp(_ seconds: Int) -> String {
            MessageDate.rfc3339(unixSeconds: seconds).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
        }
    }

    struct TemplateView: Encodable {
        var id: String
        var name: String
        var generation: String
        var updatedAt: String
        var versions: [VersionView]
        enum CodingKeys: String, CodingKey {
            case id, name, generation, versions
            case updatedAt = "updated_at"
        }
        init(_ template: MailTemplate) {
            id = template.id
            name = template.name
            generation = template.generation
            updatedAt = VersionView.timestamp(template.updatedAt)
            versions = template.versions.map(VersionView.init)
        }
    }

    struct Listing: Encodable {
        var result: [TemplateView]
    }

    func register(on router: RouterGroup<APIRequestContext>) {
        router.get("templates") { request, context in try await list(request, context) }
        router.post("templates") { request, context in try await create(request, context) }
        router.get("templates/:template_id") { _, context in try await show(context) }
        router.patch("templates/:template_id") { request, context in try await rename(request, context) }
        router.delete("templates/:template_id") { _, context in try await remove(context) }
        router.post("templates/:template_id/versions") { request, context in try await saveVersion(request, context, existing: nil) }
        router.get("templates/:template_id/versions/:version_id") { _, context in try await showVersion(context) }
        router.patch("templates/:template_id/versions/:version_id") { request, context in
            try await saveVersion(request, context, existing: context.parameters.get("version_id"))
        }
        router.delete("templates/:template_id/versions/:version_id") { _, context in try await removeVersion(context) }
        router.post("templates/:template_id/versions/:version_id/activate") { _, context in try await activate(context) }
    }

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        // `generations=dynamic` (SendGrid's default is legacy; Tern lists what is asked for).
        let wanted = request.uri.queryParameters["generations"].map { Set($0.split(separator: ",").map { String($0) }) }
        if let wanted, wanted.isEmpty || !wanted.isSubset(of: ["dynamic", "legacy"]) {
            throw APIFailure(.badRequest, "generations is dynamic, legacy, or both separated by a comma", field: "generations")
        }
        if let size = request.uri.queryParameters["page_size"], !(Int(size).map { (1...200).contains($0) } ?? false) {
            throw APIFailure(.badRequest, "page_size must be an integer from 1 to 200", field: "page_size")
        }
        let templates = try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.templates(account: key.user) }
        return APIJSON.response(Listing(result: templates.filter { wanted?.contains($0.generation) ?? true }.map(TemplateView.init)))
    }

    func create(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        let body = try BodyReader.decode(CreateBody.self, from: try await BodyReader.bytes(of: request, limit: 64 * 1024))
        let template = try await Self.run { () throws(TemplateCatalog.Failure) in
            try await catalog.create(account: key.user, name: body.name ?? "", generation: body.generation ?? "dynamic")
        }
        return APIJSON.response(TemplateView(template), status: .created)
    }

    func show(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        let id = context.parameters.get("template_id") ?? ""
        return APIJSON.response(TemplateView(try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.template(id: id, account: key.user) }))
    }

    func rename(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        let id = context.parameters.get("template_id") ?? ""
        let body = try BodyReader.decode(CreateBody.self, from: try await BodyReader.bytes(of: request, limit: 64 * 1024))
        let template = try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.rename(id: id, account: key.user, name: body.name ?? "") }
        return APIJSON.response(TemplateView(template))
    }

    func remove(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        let id = context.parameters.get("template_id") ?? ""
        try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.remove(id: id, account: key.user) }
        return Response(status: .noContent)
    }

    func saveVersion(_ request: Request, _ context: APIRequestContext, existing: String?) async throws -> Response {
        let key = try context.requireScope(.templates)
        let id = context.parameters.get("template_id") ?? ""
        let body = try BodyReader.decode(
            VersionBody.self, from: try await BodyReader.bytes(of: request, limit: 3 * TemplateCatalog.maximumContent + 64 * 1024))
        if let active = body.active, active != 0 && active != 1 { throw APIFailure(.badRequest, "active must be 0 or 1", field: "active") }
        // A PATCH keeps what it does not name.
        var current: TemplateVersion?
        if let existing {
            let template = try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.template(id: id, account: key.user) }
            current = try Self.version(existing, of: template)
        }
        let version = try await Self.run { () throws(TemplateCatalog.Failure) in
            try await catalog.saveVersion(
                account: key.user, templateID: id, versionID: existing, name: body.name ?? current?.name ?? "", subject: body.subject ?? current?.subject ?? "",
                html: body.htmlContent ?? current?.htmlContent ?? "", plain: body.plainContent ?? current?.plainContent ?? "",
                active: body.active.map { $0 != 0 } ?? current?.active ?? true)
        }
        return APIJSON.response(VersionView(version), status: existing == nil ? .created : .ok)
    }

    func showVersion(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        let id = context.parameters.get("template_id") ?? ""
        let template = try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.template(id: id, account: key.user) }
        return APIJSON.response(VersionView(try Self.version(context.parameters.get("version_id") ?? "", of: template)))
    }

    func removeVersion(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        let id = context.parameters.get("template_id") ?? ""
        let versionID = context.parameters.get("version_id") ?? ""
        try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.removeVersion(account: key.user, templateID: id, versionID: versionID) }
        return Response(status: .noContent)
    }

    func activate(_ context: APIRequestContext) async throws -> Response {
        let key = try context.requireScope(.templates)
        let id = context.parameters.get("template_id") ?? ""
        let template = try await Self.run { () throws(TemplateCatalog.Failure) in try await catalog.template(id: id, account: key.user) }
        let current = try Self.version(context.parameters.get("version_id") ?? "", of: template)
        let version = try await Self.run { () throws(TemplateCatalog.Failure) in
            try await catalog.saveVersion(
                account: key.user, templateID: id, versionID: current.id, name: current.name, subject: current.subject, html: current.htmlContent,
                plain: current.plainContent, active: true)
        }
        return APIJSON.response(VersionView(version))
    }

    static func version(_ id: String, of template: MailTemplate) throws(APIFailure) -> TemplateVersion {
        guard let version = template.versions.first(where: { $0.id == id }) else { throw APIFailure.notFound }
        return version
    }

    /// A catalog call with its failures as SendGrid's answers.
    static func run<T>(_ body: () async throws(TemplateCatalog.Failure) -> T) async throws(APIFailure) -> T {
        do {
            return try await body()
        } catch {
            switch error {
            case .notFound: throw APIFailure.notFound
            case .tooMany(let limit): throw APIFailure(.badRequest, "at most \(limit) allowed")
            case .invalidName: throw APIFailure(.badRequest, "name is required (at most 100 characters); generation is dynamic or legacy", field: "name")
            case .invalidContent(let field, let failure): throw APIFailure(.badRequest, "\(field): \(failure)", field: field)
            case .storage: throw APIFailure(.serviceUnavailable, "storage is unavailable; try again")
            }
        }
    }
}
