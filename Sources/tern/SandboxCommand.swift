import ArgumentParser
import Foundation
import MailCore
import MailService
import MailStore
import TernServer

struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Sandbox accounts: mail is accepted, signed and kept in an inbox, never sent.",
        subcommands: [Enable.self, Disable.self, List.self, Show.self])

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an account a sandbox (SMTP and HTTP alike).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in try await admin.setSandboxed(account, true) }
            print("\(account) is a sandbox: its mail is kept, never sent.")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let an account's mail be sent again.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in try await admin.setSandboxed(account, false) }
            print("\(account) sends mail again.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest messages of an account's sandbox inbox.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let messages = try await options.administer { admin throws(AdministrationError) in try await admin.sandboxMessages(of: account) }
            if json {
                printJSON(
                    messages.map { message -> [String: Any] in
                        [
                            "id": message.id, "from": message.from, "recipients": message.recipients, "subject": message.subject as Any? ?? NSNull(),
                            "created_at": MessageDate.rfc3339(unixSeconds: message.createdAt), "size": message.size,
                        ]
                    })
            } else {
                printTable(
                    header: ["ID", "CREATED", "FROM", "TO", "SUBJECT"],
                    rows: messages.map {
                        [
                            $0.id, MessageDate.rfc3339(unixSeconds: $0.createdAt), TerminalText.escaped($0.from),
                            TerminalText.escaped($0.recipients.joined(separator: ",")), TerminalText.escaped($0.subject ?? ""),
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a sandbox message's source.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The account (user address).") var account: String
        @Argument(help: "The message id (from `tern sandbox list`).") var id: String
        @Flag(help: "Print the stored bytes unchanged (control characters included).") var raw = false

        func run() async throws {
            let content = try await options.administer { admin throws(AdministrationError) in try await admin.sandboxContent(of: account, id: id) }
            if raw {
                FileHandle.standardOutput.write(Data(content))
            } else {
                print(TerminalText.escaped(content, lineBreaks: .keep), terminator: "")
            }
        }
    }
}
