import Foundation
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import SendGridProtocol
import Testing

/// Dynamic templates: versions compiled when saved (errors name the field and line), one
/// active version, accounts apart, and a send rendered per personalization.
@Suite struct TemplateCatalogTests {
    func fresh() async throws -> (TemplateCatalog, SQLiteStore) {
        let account = try await HostedAccount(prefix: "tmpl")
        _ = try await account.admin.addUser("bob@example.test", password: "pw-123456")
        return (TemplateCatalog(store: account.store, clock: { 1_796_000_000 }), account.store)
    }

    @Test func versionsAreCompiledActivatedAndKeptPerAccount() async throws {
        let (catalog, _) = try await fresh()
        let template = try await catalog.create(account: "alice@example.test", name: "Welcome")
        #expect(template.id.hasPrefix("d-") && template.id.count == 34)
        await #expect(throws: TemplateCatalog.Failure.invalidContent(field: "html_content", DynamicTemplate.Failure(line: 2, message: "{{#if}} is never closed"))) {
            _ = try await catalog.saveVersion(
                account: "alice@example.test", templateID: template.id, name: "broken", subject: "s", html: "<p>\n{{#if vip}}gold", plain: "", active: true)
        }
        let first = try await catalog.saveVersion(
            account: "alice@example.test", templateID: template.id, name: "v1", subject: "Hi {{name}}", html: "<p>{{name}}</p>", plain: "{{name}}",
            active: true)
        let second = try await catalog.saveVersion(
            account: "alice@example.test", templateID: template.id, name: "v2", subject: "Hello {{name}}",
            html: "<p>Hello {{name}}{{#if vip}}, VIP{{/if}}</p>", plain: "Hello {{name}}", active: true)
        let stored = try await catalog.template(id: template.id, account: "alice@example.test")
        #expect(stored.versions.count == 2 && stored.activeVersion?.id == second.id)
        #expect(stored.versions.first { $0.id == first.id }?.active == false)
        // Another account sees nothing of it, and cannot add to it.
        await #expect(throws: TemplateCatalog.Failure.notFound) { _ = try await catalog.template(id: template.id, account: "bob@example.test") }
        await #expect(throws: TemplateCatalog.Failure.notFound) {
            _ = try await catalog.saveVersion(account: "bob@example.test", templateID: template.id, name: "x", subject: "", html: "", plain: "", active: true)
        }
        #expect(await catalog.compiled(id: template.id, account: "bob@example.test") == nil)
        #expect(try await catalog.templates(account: "bob@example.test").isEmpty)
        await #expect(throws: TemplateCatalog.Failure.invalidName) { _ = try await catalog.create(account: "alice@example.test", name: "") }

        // A send: each personalization rendered with its data, values escaped, subject from the template.
        let compiled = try #require(await catalog.compiled(id: template.id, account: "alice@example.test"))
        var request = MailSendRequest(
            personalizations: [MailSendRequest.Personalization(to: [.init(email: "a@dest.test")]), MailSendRequest.Personalization(to: [.init(email: "b@dest.test")])],
            from: .init(email: "alice@example.test"))
        request.templateID = template.id
        request.personalizations?[0].dynamicTemplateData = .object(["name": .string("Ada <3>"), "vip": .bool(true)])
        request.personalizations?[1].dynamicTemplateData = .object(["name": .string("Bob")])
        request.personalizations?[1].substitutions = ["Hello": "Hi"]
        let messages = try request.messages(messageID: { "<m\($0)@x>" }, date: "Mon, 30 Nov 2026 10:00:00 +0000", template: compiled)
        // As on SendGrid, `{{…}}` escapes in the subject too (`{{{…}}}` does not).
        #expect(messages.map(\.composed.subject) == ["Hello Ada &lt;3&gt;", "Hi Bob"])
        let html = messages.map { $0.composed.contents.first { $0.type == "text/html" }?.value }
        #expect(html == ["<p>Hello Ada &lt;3&gt;, VIP</p>", "<p>Hi Bob</p>"])  // legacy substitutions apply too
        #expect(messages[1].composed.contents.map(\.type) == ["text/plain", "text/html"])

        try await catalog.removeVersion(account: "alice@example.test", templateID: template.id, versionID: second.id)
        #expect(await catalog.compiled(id: template.id, account: "alice@example.test") == nil)
        try await catalog.remove(id: template.id, account: "alice@example.test")
        #expect(try await catalog.templates(account: "alice@example.test").isEmpty)
    }
}
