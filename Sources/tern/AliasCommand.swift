import ArgumentParser
import MailService

struct AliasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias", abstract: "Addresses that deliver to other addresses.", subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make ALIAS deliver to each TARGET (hosted users or outside addresses).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The alias, in a hosted domain.") var alias: String
        @Argument(help: "One or more target addresses.") var targets: [String]

        func run() async throws {
            let made = try await options.administer { admin throws(AdministrationError) in try await admin.addAlias(alias, targets: targets) }
            print("\(made.alias) → \(made.targets.joined(separator: ", "))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List aliases.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let aliases = try await options.administer { admin throws(AdministrationError) in try await admin.aliases() }
            if json {
                printJSON(aliases.map { ["alias": $0.address, "targets": $0.targets] as [String: Any] })
            } else {
                printTable(header: ["ALIAS", "TARGETS"], rows: aliases.map { [$0.address, $0.targets.joined(separator: ", ")] })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an alias.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The alias.") var alias: String

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in try await admin.removeAlias(alias) }
            print("Removed \(try Administration.address(alias)).")
        }
    }
}
