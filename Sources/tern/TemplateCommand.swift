import ArgumentParser
import Foundation
import MailCore
import MailService
import MailStore
import TernServer

/// `tern template`: an account's dynamic templates, through the same `TemplateCatalog` as
/// `/v3/templates`.
struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "Dynamic templates (Handlebars) used by /v3/mail/send with template_id.",
        subcommands: [Add.self, List.self, Show.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a template with one active version; prints its id.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String
        @Argument(help: "The template's name.") var name: String
        @Option(help: "The subject (Handlebars).") var subject = ""
        @Option(help: "A file with the HTML content (Handlebars).") var html: String?
        @Option(help: "A file with the plain-text content (Handlebars).") var text: String?

        func run() async throws {
            let store = try await options.environment().store
            guard try await store.user(account.lowercased()) != nil else { throw ValidationError("no such user: \(account)") }
            let catalog = TemplateCatalog(store: store)
            let html = try self.html.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? ""
            let text = try self.text.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? ""
            let template = try await TemplateCommand.run { () throws(TemplateCatalog.Failure) in
                let template = try await catalog.create(account: account.lowercased(), name: name)
                _ = try await catalog.saveVersion(
                    account: account.lowercased(), templateID: template.id, name: "\(name) v1", subject: subject, html: html, plain: text, active: true)
                return template
            }
            print(template.id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An account's templates.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String

        func run() async throws {
            let catalog = TemplateCatalog(store: try await options.environment().store)
            let templates = try await TemplateCommand.run { () throws(TemplateCatalog.Failure) in try await catalog.templates(account: account.lowercased()) }
            printTable(
                header: ["ID", "NAME", "GENERATION", "VERSIONS", "ACTIVE", "UPDATED"],
                rows: templates.map {
                    [
                        $0.id, TerminalText.escaped($0.name), $0.generation, String($0.versions.count), TerminalText.escaped($0.activeVersion?.name ?? "-"),
                        MessageDate.rfc3339(unixSeconds: $0.updatedAt),
                    ]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A template's versions, the active one's contents in full.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String
        @Argument(help: "The template id (d-…).") var id: String

        func run() async throws {
            let catalog = TemplateCatalog(store: try await options.environment().store)
            let template = try await TemplateCommand.run { () throws(TemplateCatalog.Failure) in try await catalog.template(id: id, account: account.lowercased()) }
            print("\(template.id)  \(TerminalText.escaped(template.name))  (\(template.generation))")
            for version in template.versions {
                print("  version \(version.id)  \(TerminalText.escaped(version.name))\(version.active ? "  [active]" : "")")
            }
            if let active = template.activeVersion {
                print("subject: \(TerminalText.escaped(active.subject))")
                print("--- html\n\(TerminalText.escaped(active.htmlContent))\n--- text\n\(TerminalText.escaped(active.plainContent))")
            }
        }
    }

    /// Catalog failures as the CLI reports them: a usage mistake exits 2, others 1.
    static func run<T>(_ body: () async throws(TemplateCatalog.Failure) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            switch error {
            case .notFound: throw OperationFailure(message: "no such template of this account")
            case .tooMany(let limit): throw OperationFailure(message: "at most \(limit) allowed")
            case .invalidName: throw ValidationError("a name is required (at most 100 characters)")
            case .invalidContent(let field, let failure): throw ValidationError("\(field): \(failure)")
            case .storage: throw OperationFailure(message: "the store is unavailable")
            }
        }
    }
}
