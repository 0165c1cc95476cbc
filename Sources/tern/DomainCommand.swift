import ArgumentParser
import Foundation
import MailCore
import MailStore
import MailAuth
import MailStoreSQLite
import TernServer

struct DomainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Manage hosted domains.", subcommands: [Add.self, List.self, Records.self, Check.self, DKIM.self, CatchAll.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a hosted domain and print the DNS records to publish.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The domain, e.g. example.com.") var domain: String
        @Option(help: "DKIM selector (default: tern + today's date).") var selector: String?
        @Option(help: "DKIM key: rsa (2048 bits), ed25519, or both (two signatures).") var dkim: KeyChoice = .rsa

        func run() async throws {
            guard let parsed = try? Domain(validating: domain, allowUTF8: true), parsed.kind == .name else {
                throw ValidationError("\(domain) is not a valid domain name")
            }
            let environment = try options.environment()
            let name = parsed.normalized
            do {
                try await environment.store.addDomain(name)
                try await addKeys(dkim, domain: name, selector: selector, store: environment.store)
            } catch let error as StoreError {
                throw OperationFailure(message: "\(error)")
            }
            print("Added \(name). Publish these DNS records:")
            try await printRecords(name, environment: environment)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List hosted domains.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let domains = try await operation { try await options.environment().store.listDomains() }
            if json {
                printJSON(domains.map { ["name": $0.name, "created_at": MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            } else {
                printTable(header: ["DOMAIN", "CREATED"], rows: domains.map { [$0.name, MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            }
        }
    }
}

enum KeyChoice: String, ExpressibleByArgument, CaseIterable {
    case rsa, ed25519, both
}

/// Makes the domain's new DKIM key(s); the selector of the Ed25519 one ends in "e".
func addKeys(_ choice: KeyChoice, domain: String, selector: String?, store: SQLiteStore) async throws {
    let existing = Set(try await store.signingKeys(domain: domain).map(\.selector))
    let base = selector ?? DNSRecordSuggestions.defaultSelector(taken: existing.union(existing.map { String($0.dropLast()) }))
    var algorithms: [DKIMAlgorithm] = []
    if choice != .ed25519 { algorithms.append(.rsaSHA256) }
    if choice != .rsa { algorithms.append(.ed25519SHA256) }
    let now = MessageDate.nowUnixSeconds()
    var made: [String] = []
    for algorithm in algorithms {
        let name = algorithm == .ed25519SHA256 && choice == .both ? base + "e" : base
        let key: DKIMSigningKey
        do {
            key = try DKIMSigningKey.generate(domain: domain, selector: name, algorithm: algorithm)
        } catch {
            throw OperationFailure(message: "cannot generate a DKIM key: \(error)")
        }
        try await store.addSigningKey(
            StoredSigningKey(domain: domain, selector: name, algorithm: algorithm.rawValue, privateKey: key.storageText, createdAt: now))
        made.append(name)
    }
    try await store.retireSigningKeys(domain: domain, keeping: made)
}

func printRecords(_ domain: String, environment: TernEnvironment) async throws {
    let keys = try await operation { try await environment.store.signingKeys(domain: domain) }
    for line in DNSRecordSuggestions.records(domain: domain, hostname: environment.configuration.hostname, keys: keys) { print(line) }
    print("")
    print(DNSRecordSuggestions.advice)
}

extension DomainCommand {
    struct Records: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the DNS records a hosted domain should publish.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The domain.") var domain: String

        func run() async throws {
            let environment = try options.environment()
            let name = domain.lowercased()
            guard try await operation({ try await environment.store.isHostedDomain(name) }) else {
                throw OperationFailure(message: "\(name) is not a hosted domain (add it with `tern domain add \(name)`)")
            }
            try await printRecords(name, environment: environment)
        }
    }

    struct DKIM: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dkim", abstract: "Manage a domain's DKIM keys.", subcommands: [Rotate.self, Remove.self, List.self])

        struct Rotate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make a new signing key; the old one stops signing but stays published until `tern domain dkim remove`.")
            @OptionGroup var options: ConfigOption
            @Argument(help: "The domain.") var domain: String
            @Option(help: "Selector of the new key (default: tern + today's date).") var selector: String?
            @Option(help: "rsa, ed25519 or both.") var algorithm: KeyChoice = .rsa

            func run() async throws {
                let environment = try options.environment()
                let name = domain.lowercased()
                guard try await operation({ try await environment.store.isHostedDomain(name) }) else {
                    throw OperationFailure(message: "\(name) is not a hosted domain")
                }
                try await operation { try await addKeys(algorithm, domain: name, selector: selector, store: environment.store) }
                print("New key made for \(name). Publish its record now; keep the retired one until mail signed with it is delivered:")
                try await printRecords(name, environment: environment)
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a DKIM key (then remove its DNS record).")
            @OptionGroup var options: ConfigOption
            @Argument(help: "The domain.") var domain: String
            @Argument(help: "The key's selector.") var selector: String

            func run() async throws {
                let environment = try options.environment()
                guard try await operation({ try await environment.store.removeSigningKey(domain: domain.lowercased(), selector: selector) }) else {
                    throw OperationFailure(message: "\(domain) has no DKIM key with selector \(selector)")
                }
                print("Removed \(selector)._domainkey.\(domain.lowercased()); delete its TXT record.")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a domain's DKIM keys.")
            @OptionGroup var options: ConfigOption
            @Argument(help: "The domain.") var domain: String

            func run() async throws {
                let keys = try await operation { try await options.environment().store.signingKeys(domain: domain.lowercased()) }
                printTable(
                    header: ["SELECTOR", "ALGORITHM", "STATE", "CREATED"],
                    rows: keys.map { [$0.selector, $0.algorithm, $0.state.rawValue, MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Look up a domain's MX, SPF and DMARC records through [dns] nameservers and say what is missing.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The domain.") var domain: String

        func run() async throws {
            let configuration = try options.load()
            let keys = (try? await TernEnvironment(configuration: configuration).store.signingKeys(domain: domain.lowercased())) ?? []
            let findings = await DomainCheck.run(
                domain: domain.lowercased(), hostname: configuration.hostname, resolver: TernDNS.resolver(configuration: configuration), keys: keys)
            for finding in findings {
                print("\(finding.ok ? "ok     " : "missing") \(finding.record): \(finding.detail)")
            }
            if findings.contains(where: { !$0.ok }) { throw OperationFailure(message: "\(domain) is missing DNS records") }
        }
    }
}

/// Runs a store operation; its failure is an operation failure (exit 1), not bad usage.
func operation<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ConfigurationError {
        throw error
    } catch let error as StoreError {
        throw OperationFailure(message: "\(error)")
    }
}
