import ArgumentParser
import Foundation
import MailCore
import MailService
import MailStore
import TernServer

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Manage API keys (usable as the SMTP password).", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key for a user and print it once; only its hash is stored.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Option(help: "A name to recognise the key by.") var name = ""
        @Option(
            name: .customLong("scope"),
            help: "What the key may do over the HTTP API (repeat for several): \(APIScope.allCases.map(\.rawValue).joined(separator: ", ")). Default: full."
        )
        var scopes: [String] = []
        @Flag(help: "Mail sent with this key over the HTTP API is kept in the account's sandbox inbox, never sent.")
        var sandbox = false

        func validate() throws {
            for scope in scopes where APIScope(name: scope) == nil {
                throw ValidationError("unknown scope \(scope); scopes: \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            let chosen: Set<APIScope> = scopes.isEmpty ? [.full] : Set(scopes.compactMap(APIScope.init(name:)))
            let key = try await options.administer { admin throws(AdministrationError) in
                try await admin.createAPIKey(for: email, name: name, scopes: chosen, sandbox: sandbox).text
            }
            // DESIGN.md: the key alone on standard output.
            print(key)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's API keys (never their secrets).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let keys = try await options.administer { admin throws(AdministrationError) in try await admin.apiKeys(of: email) }
            if json {
                printJSON(
                    keys.map { key -> [String: Any] in
                        [
                            "id": key.id, "name": key.name, "created_at": MessageDate.rfc3339(unixSeconds: key.createdAt),
                            "scopes": key.scopes.sorted().map(\.rawValue), "sandbox": key.sandbox,
                            "revoked_at": key.revokedAt.map { MessageDate.rfc3339(unixSeconds: $0) } as Any? ?? NSNull(),
                        ]
                    })
            } else {
                printTable(
                    header: ["ID", "NAME", "CREATED", "STATE", "SCOPES"],
                    rows: keys.map {
                        [
                            $0.id, $0.name, MessageDate.rfc3339(unixSeconds: $0.createdAt), $0.revokedAt == nil ? "active" : "revoked",
                            $0.scopes.sorted().map(\.rawValue).joined(separator: ","),
                        ]
                    })
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key at once.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The key's id (from `tern key list`).") var id: String

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in try await admin.revokeAPIKey(id: id) }
            print("Revoked \(id).")
        }
    }
}
