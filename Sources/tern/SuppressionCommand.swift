import ArgumentParser
import Foundation
import MailCore
import MailService
import MailStore
import TernServer

extension SuppressionList: ExpressibleByArgument {}

struct SuppressionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppression",
        abstract: "An account's suppression lists: mail to a listed address is dropped, not sent (blocks are listed only).",
        subcommands: [List.self, Add.self, Remove.self])

    static let lists = SuppressionList.allCases.map(\.rawValue).joined(separator: ", ")

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List one of an account's lists, newest first.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String
        @Option(help: "The list: \(SuppressionCommand.lists).") var list: SuppressionList = .bounces
        @Option(help: "The suppression group, for --list group.") var group = 0
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let entries = try await options.administer { admin throws(AdministrationError) in
                try await admin.suppressions(of: account, list: list, group: group)
            }
            if json {
                printJSON(
                    entries.map { entry -> [String: Any] in
                        [
                            "email": entry.email, "created_at": MessageDate.rfc3339(unixSeconds: entry.createdAt),
                            "reason": entry.reason as Any? ?? NSNull(), "status": entry.status as Any? ?? NSNull(),
                        ]
                    })
            } else {
                printTable(
                    header: ["EMAIL", "ADDED", "STATUS", "REASON"],
                    rows: entries.map {
                        [TerminalText.escaped($0.email), MessageDate.rfc3339(unixSeconds: $0.createdAt), $0.status ?? "", TerminalText.escaped($0.reason ?? "")]
                    })
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put an address on one of an account's lists.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String
        @Argument(help: "The list: \(SuppressionCommand.lists).") var list: SuppressionList
        @Argument(help: "The address to suppress.") var address: String
        @Option(help: "The suppression group, for the list group.") var group = 0

        func run() async throws {
            let added = try await options.administer { admin throws(AdministrationError) in
                try await admin.suppress(address, for: account, list: list, group: group)
            }
            print("Added \(added) to \(list.rawValue).")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take an address off one of an account's lists.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String
        @Argument(help: "The list: \(SuppressionCommand.lists).") var list: SuppressionList
        @Argument(help: "The address.") var address: String
        @Option(help: "The suppression group, for the list group.") var group = 0

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in
                try await admin.unsuppress(address, for: account, list: list, group: group)
            }
            print("Removed \(address) from \(list.rawValue).")
        }
    }
}
