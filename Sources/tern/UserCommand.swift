import ArgumentParser
import Foundation
import MailCore
import MailStore
import SASL
import TernServer

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage mailbox users.", subcommands: [Add.self, List.self, Show.self, Remove.self, SetPlan.self, SetQuota.self, AllowDomain.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user. Without --password-stdin a random password is generated and printed once.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address, e.g. alice@example.com.") var email: String
        @Option(help: "The sending plan (see [plans] in the configuration).") var plan = "free"
        @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

        func run() async throws {
            let address = try accountAddress(email)
            let environment = try options.environment()
            guard environment.configuration.plans[plan] != nil else {
                throw ValidationError("unknown plan \(plan); plans: \(environment.configuration.plans.keys.sorted().joined(separator: ", "))")
            }
            let password: String
            if passwordStdin {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("--password-stdin: no password on standard input")
                }
                password = line
            } else {
                password = randomPassword()
            }
            let hash = try PasswordHash.make(password)
            var salt = [UInt8](repeating: 0, count: 16)
            var generator = SystemRandomNumberGenerator()
            for i in salt.indices { salt[i] = generator.next() }
            let scram = try SCRAMCredentials.derive(password: password, salt: salt).encoded
            // CRAM-MD5 (RFC 2195) keys its HMAC with the password itself: only kept when enabled.
            let cramSecret = environment.configuration.auth.cramMD5 ? password : nil
            try await operation {
                try await environment.store.addUser(
                    MailUser(
                        address: address.normalized, passwordHash: hash, plan: plan, createdAt: MessageDate.nowUnixSeconds(), scram: scram,
                        cramSecret: cramSecret))
            }
            if passwordStdin {
                print("Added \(address.normalized) (plan \(plan)).")
            } else {
                print("Added \(address.normalized) (plan \(plan)). Password (shown once): \(password)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let users = try await operation { try await options.environment().store.listUsers() }
            if json {
                printJSON(users.map { ["address": $0.address, "plan": $0.plan, "created_at": MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            } else {
                printTable(
                    header: ["ADDRESS", "PLAN", "CREATED"],
                    rows: users.map { [$0.address, $0.plan, MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String

        func run() async throws {
            let address = try accountAddress(email)
            try await operation { try await options.environment().store.removeUser(address.normalized) }
            print("Removed \(address.normalized).")
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
            let address = try accountAddress(email)
            let environment = try options.environment()
            let account = address.normalized
            guard let user = try await operation({ try await environment.store.user(account) }) else {
                throw OperationFailure(message: "user \(account) not found")
            }
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
                    "address": account, "plan": user.plan, "sending_domains": domains,
                    "limits": limits.map { limit -> [String: Any] in
                        ["name": limit.name, "used": used[limit.period] ?? 0, "limit": limit.limit,
                         "resets_at": MessageDate.rfc3339(unixSeconds: limit.resetsAt)]
                    },
                ])
                return
            }
            print("address: \(account)")
            print("plan: \(user.plan)\(plan == nil ? " (not configured)" : "")")
            print("sending domains: \(domains.joined(separator: ", "))")
            for limit in limits {
                print("\(limit.name): \(used[limit.period] ?? 0) of \(limit.limit), resets at \(MessageDate.rfc3339(unixSeconds: limit.resetsAt))")
            }
        }
    }

    struct SetPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-plan", abstract: "Move a user to another plan.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Argument(help: "The plan (see [plans] in the configuration).") var plan: String

        func run() async throws {
            let address = try accountAddress(email)
            let environment = try options.environment()
            guard environment.configuration.plans[plan] != nil else {
                throw ValidationError("unknown plan \(plan); plans: \(environment.configuration.plans.keys.sorted().joined(separator: ", "))")
            }
            try await operation { try await environment.store.setPlan(user: address.normalized, plan: plan) }
            print("\(address.normalized) is now on plan \(plan).")
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
            let address = try accountAddress(email)
            guard let parsed = try? Domain(validating: domain, allowUTF8: true), parsed.kind == .name else {
                throw ValidationError("\(domain) is not a valid domain name")
            }
            try await operation {
                try await options.environment().store.allowSendingDomain(user: address.normalized, domain: parsed.normalized)
            }
            print("\(address.normalized) may now send as @\(parsed.normalized).")
        }
    }
}

/// 20 characters from a 62-letter alphabet: about 119 bits.
func randomPassword() -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    var generator = SystemRandomNumberGenerator()
    return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
}
