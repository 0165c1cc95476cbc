import ArgumentParser
import Foundation
import MailCore
import MailStore
import MailStoreSQLite
import TernServer

struct MailboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox", abstract: "Look into users' mailboxes.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A user's folders, or one folder's messages with --folder.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Option(help: "List the messages of this folder.") var folder: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let address = try accountAddress(email).normalized
            let store = try options.environment().store
            let folders = try await operation { try await store.mailboxes(user: address) }
            guard !folders.isEmpty else { throw OperationFailure(message: "\(address) has no mailboxes (no such user?)") }
            if let folder {
                guard let mailbox = folders.first(where: { $0.name.lowercased() == folder.lowercased() }) else {
                    throw OperationFailure(message: "\(address) has no folder \(folder)")
                }
                let messages = try await operation { try await store.messages(mailboxID: mailbox.id) }
                if json {
                    printJSON(messages.map {
                        ["uid": $0.uid, "size": $0.size, "internal_date": MessageDate.rfc3339(unixSeconds: $0.internalDate), "flags": $0.flags,
                         "queue_id": $0.messageID] as [String: Any]
                    })
                } else {
                    printTable(
                        header: ["UID", "SIZE", "DATE", "FLAGS"],
                        rows: messages.map { ["\($0.uid)", "\($0.size)", MessageDate.rfc3339(unixSeconds: $0.internalDate), $0.flags.joined(separator: " ")] })
                }
                return
            }
            let (bytes, quota) = try await operation { try store.usage(user: address) }
            if json {
                printJSON([
                    "user": address, "bytes": bytes, "quota": quota as Any,
                    "folders": folders.map { ["name": $0.name, "messages": $0.messages, "bytes": $0.size, "uidvalidity": $0.uidValidity, "uidnext": $0.uidNext] },
                ] as [String: Any])
            } else {
                printTable(
                    header: ["FOLDER", "MESSAGES", "BYTES", "UIDVALIDITY", "UIDNEXT"],
                    rows: folders.map { [$0.name, "\($0.messages)", "\($0.size)", "\($0.uidValidity)", "\($0.uidNext)"] })
                print("used \(bytes) bytes" + (quota.map { " of a \($0)-byte quota" } ?? ", no quota"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one message as the user would download it.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Argument(help: "The message's UID.") var uid: Int
        @Option(help: "The folder (default INBOX).") var folder = "INBOX"

        func run() async throws {
            let address = try accountAddress(email).normalized
            let store = try options.environment().store
            guard let mailbox = try await operation({ try await store.mailbox(user: address, name: folder) }) else {
                throw OperationFailure(message: "\(address) has no folder \(folder)")
            }
            guard let content = try await operation({ try await store.content(mailboxID: mailbox.id, uid: uid) }) else {
                throw OperationFailure(message: "no message with UID \(uid) in \(folder) of \(address)")
            }
            FileHandle.standardOutput.write(Data(content))
        }
    }
}

struct AliasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias", abstract: "Addresses that deliver to other addresses.", subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make ALIAS deliver to each TARGET (hosted users or outside addresses).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The alias, in a hosted domain.") var alias: String
        @Argument(help: "One or more target addresses.") var targets: [String]

        func run() async throws {
            let address = try accountAddress(alias).normalized
            guard !targets.isEmpty else { throw ValidationError("give at least one target") }
            let normalized = try targets.map { try accountAddress($0).normalized }
            try await operation { try await options.environment().store.addAlias(address, targets: normalized) }
            print("\(address) → \(normalized.joined(separator: ", "))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List aliases.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let aliases = try await operation { try await options.environment().store.aliases() }
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
            let address = try accountAddress(alias).normalized
            guard try await operation({ try await options.environment().store.removeAlias(address) }) else {
                throw OperationFailure(message: "no alias \(address)")
            }
            print("Removed \(address).")
        }
    }
}

extension UserCommand {
    struct SetQuota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-quota", abstract: "Limit a user's mailboxes to BYTES (e.g. 500M, 2G; 0 or none: no limit).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Argument(help: "Bytes, with an optional K, M or G suffix; none for no limit.") var bytes: String

        func run() async throws {
            let address = try accountAddress(email).normalized
            guard let quota = Self.parse(bytes) else { throw ValidationError("\(bytes) is not a size (e.g. 1048576, 500M, 2G, none)") }
            try await operation { try await options.environment().store.setQuota(user: address, bytes: quota == 0 ? nil : quota) }
            print(quota == 0 ? "\(address) has no quota." : "\(address) may keep \(quota) bytes.")
        }

        static func parse(_ text: String) -> Int? {
            let lower = text.lowercased()
            if lower == "none" { return 0 }
            let multipliers: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
            if let last = lower.last, let multiplier = multipliers[last], let n = Int(lower.dropLast()), n >= 0 { return n * multiplier }
            if let n = Int(lower), n >= 0 { return n }
            return nil
        }
    }
}

extension DomainCommand {
    struct CatchAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catch-all", abstract: "Deliver mail for unknown addresses of DOMAIN to TARGET (or stop, with --remove).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The hosted domain.") var domain: String
        @Argument(help: "Where unknown addresses' mail goes.") var target: String?
        @Flag(help: "Remove the catch-all.") var remove = false

        func run() async throws {
            guard remove != (target != nil) else { throw ValidationError("give a TARGET, or --remove") }
            let normalized = try target.map { try accountAddress($0).normalized }
            try await operation { try await options.environment().store.setCatchAll(domain: domain.lowercased(), target: normalized) }
            print(normalized.map { "Unknown addresses of \(domain.lowercased()) now go to \($0)." } ?? "No catch-all for \(domain.lowercased()).")
        }
    }
}
