import ArgumentParser
import Foundation
import MailCore
import MailService
import MailStore
import TernServer

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage mailbox users.",
        subcommands: [Add.self, List.self, Show.self, Remove.self, Passwd.self, SetPlan.self, SetQuota.self, AllowDomain.self, SetAdmin.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user. Without --password-stdin a random password is generated and printed once.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address, e.g. alice@example.com.") var email: String
        @Option(help: "The sending plan (see [plans] in the configuration).") var plan = "free"
        @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false
        @Flag(help: "An operator: sees the whole server in the dashboard (queue, every domain and user).") var admin = false

        func run() async throws {
            let password = passwordStdin ? try passwordFromStandardInput() : nil
            let isOperator = admin
            let added = try await options.administer { admin throws(AdministrationError) in
                try await admin.addUser(email, plan: plan, password: password, isOperator: isOperator)
            }
            if let generated = added.generatedPassword {
                print("Added \(added.address) (plan \(added.plan)). Password (shown once): \(generated)")
            } else {
                print("Added \(added.address) (plan \(added.plan)).")
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password (read from the first line of standard input); every stored form is replaced.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Flag(help: "Read the password from the first line of standard input (the only way; kept for scripts' clarity).")
        var passwordStdin = false

        func run() async throws {
            let password = try passwordFromStandardInput()
            try await options.administer { admin throws(AdministrationError) in try await admin.setPassword(email, password: password) }
            print("Password of \(try Administration.address(email)) changed.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let users = try await options.administer { admin throws(AdministrationError) in try await admin.users() }
            if json {
                printJSON(
                    users.map {
                        ["address": $0.address, "plan": $0.plan, "admin": $0.isOperator, "created_at": MessageDate.rfc3339(unixSeconds: $0.createdAt)]
                    })
            } else {
                printTable(
                    header: ["ADDRESS", "PLAN", "ADMIN", "CREATED"],
                    rows: users.map { [$0.address, $0.plan, $0.isOperator ? "yes" : "no", MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in try await admin.removeUser(email) }
            print("Removed \(try Administration.address(email)).")
        }
    }
}

extension UserCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user's plan, usage and limits.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let user = try await options.administer { admin throws(AdministrationError) in try await admin.user(email) }
            let environment = try await options.environment()
            let account = user.address
            let plan = environment.configuration.plans[user.plan]
            let limits = plan.map {
                PlanLimits(
                    dailyMessages: $0.dailyMessages, hourlyMessages: $0.hourlyMessages, messagesPerMinute: $0.messagesPerMinute
                ).usageLimits(at: MessageDate.nowUnixSeconds())
            } ?? []
            let used = try await operation { try environment.store.usage(user: account, periods: limits.map(\.period)) }
            let domains = try await operation { try environment.store.sendingDomains(user: account) }
            if json {
                printJSON([
                    "address": account, "plan": user.plan, "admin": user.isOperator, "sending_domains": domains,
                    "limits": limits.map { limit -> [String: Any] in
                        ["name": limit.name, "used": used[limit.period] ?? 0, "limit": limit.limit,
                         "resets_at": MessageDate.rfc3339(unixSeconds: limit.resetsAt)]
                    },
                ])
                return
            }
            print("address: \(account)")
            print("plan: \(user.plan)\(plan == nil ? " (not configured)" : "")")
            print("admin: \(user.isOperator ? "yes" : "no")")
            print("sending domains: \(domains.joined(separator: ", "))")
            for limit in limits {
                print("\(limit.name): \(used[limit.period] ?? 0) of \(limit.limit), resets at \(MessageDate.rfc3339(unixSeconds: limit.resetsAt))")
            }
        }
    }

    struct SetAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-admin", abstract: "Make a user an operator (the whole server in the dashboard), or with --off no longer one.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Flag(help: "Take the operator role away.") var off = false

        func run() async throws {
            let isOperator = !off
            try await options.administer { admin throws(AdministrationError) in try await admin.setOperator(email, isOperator) }
            print("\(try Administration.address(email)) is \(isOperator ? "now" : "no longer") an operator.")
        }
    }

    struct SetPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-plan", abstract: "Move a user to another plan.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Argument(help: "The plan (see [plans] in the configuration).") var plan: String

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in try await admin.setPlan(email, plan: plan) }
            print("\(try Administration.address(email)) is now on plan \(plan).")
        }
    }

    struct AllowDomain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "allow-domain",
            abstract: "Let a user send as addresses of another domain (MAIL FROM and From:), besides its own.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Argument(help: "The domain it may send as.") var domain: String

        func run() async throws {
            try await options.administer { admin throws(AdministrationError) in try await admin.allowSendingDomain(email, domain: domain) }
            print("\(try Administration.address(email)) may now send as @\(try Administration.domainName(domain)).")
        }
    }

    struct SetQuota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-quota", abstract: "Limit a user's mailboxes to BYTES (e.g. 500M, 2G; 0 or none: no limit).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Argument(help: "Bytes, with an optional K, M or G suffix; none for no limit.") var bytes: String

        func run() async throws {
            guard let quota = Self.parse(bytes) else { throw ValidationError("\(bytes) is not a size (e.g. 1048576, 500M, 2G, none)") }
            try await options.administer { admin throws(AdministrationError) in try await admin.setQuota(email, bytes: quota == 0 ? nil : quota) }
            let address = try Administration.address(email)
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

/// The first line of standard input, which must not be empty.
func passwordFromStandardInput() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("--password-stdin: no password on standard input")
    }
    return line
}
