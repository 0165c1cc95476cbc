import Foundation
import MailCore
import MailStore
import SendGridProtocol

/// Dynamic templates of accounts (SendGrid's `/v3/templates`): what the HTTP API and
/// `tern template` both call. Every version's subject and contents are compiled when saved, so
/// a template that does not parse is refused then (naming the field and line), never at send.
public struct TemplateCatalog: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        case notFound
        case tooMany(limit: Int)
        case invalidName
        /// `field` (`subject`, `html_content`, `plain_content`) does not parse.
        case invalidContent(field: String, DynamicTemplate.Failure)
        case storage
    }

    /// SendGrid's limits: 300 templates per account, 300 versions per template.
    public static let maximumTemplates = 300
    public static let maximumVersions = 300
    /// Per field: far above any real template, low enough that compiling one is quick.
    public static let maximumContent = 1 << 20

    let store: any TemplateRepository
    let clock: @Sendable () -> Int

    public init(store: any TemplateRepository, clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }) {
        self.store = store
        self.clock = clock
    }

    public func create(account: String, name: String, generation: String = "dynamic") async throws(Failure) -> MailTemplate {
        guard Self.validName(name), ["dynamic", "legacy"].contains(generation) else { throw .invalidName }
        guard let existing = try? await store.templates(account: account) else { throw .storage }
        guard existing.count < Self.maximumTemplates else { throw .tooMany(limit: Self.maximumTemplates) }
        let template = MailTemplate(id: "d-" + Self.hex(16), account: account, name: name, generation: generation, updatedAt: clock())
        do { try await store.addTemplate(template) } catch { throw .storage }
        return template
    }

    public func templates(account: String) async throws(Failure) -> [MailTemplate] {
        do { return try await store.templates(account: account) } catch { throw .storage }
    }

    public func template(id: String, account: String) async throws(Failure) -> MailTemplate {
        guard id.utf8.count <= 100, let found = try? await store.template(id: id, account: account) else { throw .notFound }
        return found
    }

    public func rename(id: String, account: String, name: String) async throws(Failure) -> MailTemplate {
        guard Self.validName(name) else { throw .invalidName }
        guard (try? await store.renameTemplate(id: id, account: account, name: name, at: clock())) == true else { throw .notFound }
        return try await template(id: id, account: account)
    }

    public func remove(id: String, account: String) async throws(Failure) {
        guard (try? await store.removeTemplate(id: id, account: account)) == true else { throw .notFound }
    }

    /// Saves a new version (nil `versionID`) or replaces one; compiled first.
    public func saveVersion(
        account: String, templateID: String, versionID: String? = nil, name: String, subject: String, html: String, plain: String, active: Bool
    ) async throws(Failure) -> TemplateVersion {
        let template = try await template(id: templateID, account: account)
        guard Self.validName(name) else { throw .invalidName }
        if let versionID {
            guard template.versions.contains(where: { $0.id == versionID }) else { throw .notFound }
        } else if template.versions.count >= Self.maximumVersions {
            throw .tooMany(limit: Self.maximumVersions)
        }
        for (field, text) in [("subject", subject), ("html_content", html), ("plain_content", plain)] {
            do {
                _ = try DynamicTemplate(text, limits: DynamicTemplate.Limits(maximumLength: Self.maximumContent))
            } catch {
                throw .invalidContent(field: field, error)
            }
        }
        let version = TemplateVersion(
            id: versionID ?? UUID().uuidString.lowercased(), templateID: templateID, name: name, subject: subject, htmlContent: html, plainContent: plain,
            active: active, updatedAt: clock())
        guard (try? await store.saveVersion(version, account: account)) == true else { throw .notFound }
        return version
    }

    public func removeVersion(account: String, templateID: String, versionID: String) async throws(Failure) {
        guard (try? await store.removeVersion(id: versionID, templateID: templateID, account: account)) == true else { throw .notFound }
    }

    /// The active version of an account's template, compiled for `/v3/mail/send`; nil when
    /// the template is not the account's or has no active version.
    public func compiled(id: String, account: String) async -> MailSendRequest.Template? {
        guard let template = try? await template(id: id, account: account), let version = template.activeVersion else { return nil }
        func compile(_ text: String) -> DynamicTemplate? {
            text.isEmpty ? nil : try? DynamicTemplate(text, limits: DynamicTemplate.Limits(maximumLength: Self.maximumContent))
        }
        return MailSendRequest.Template(
            id: id, subject: compile(version.subject), html: compile(version.htmlContent), plain: compile(version.plainContent))
    }

    static func validName(_ name: String) -> Bool { !name.isEmpty && name.count <= 100 }

    static func hex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
