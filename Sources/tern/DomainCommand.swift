import ArgumentParser
import Foundation
import MailCore
import MailStore
import MailAuth
import MailService
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
        @Option(help: "DKIM key: rsa (2048 bits), ed25519, or both (two signatures).") var dkim: DKIMKeyChoice = .rsa

        func run() async throws {
            let name = try await options.administer { admin throws(AdministrationError) in
                try await admin.addDomain(domain, dkim: dkim, selector: selector)
            }
            print("Added \(name). Publish these DNS records:")
            try await printRecords(name, options: options)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List hosted domains.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let domains = try await options.administer { admin throws(AdministrationError) in try await admin.domains() }
            if json {
                printJSON(domains.map { ["name": $0.name, "created_at": MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            } else {
                printTable(header: ["DOMAIN", "CREATED"], rows: domains.map { [$0.name, MessageDate.rfc3339(unixSeconds: $0.createdAt)] })
            }
        }
    }
}

extension DKIMKeyChoice: ExpressibleByArgument {}

/// The domain's records as zone-file lines, then the advice on DMARC.
func printRecords(_ domain: String, options: ConfigOption) async throws {
    let records = try await options.administer { admin throws(AdministrationError) in try await admin.records(domain: domain) }
    for record in records { print(record.zoneLine) }
    print("")
    print(DNSRecordSuggestions.advice)
}

extension DomainCommand {
    struct Records: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the DNS records a hosted domain should publish.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The domain.") var domain: String
        @Flag(help: "Print JSON: an array of {name, type, value}.") var json = false

        func run() async throws {
            guard json else { return try await printRecords(domain, options: options) }
            let records = try await options.administer { admin throws(AdministrationError) in try await admin.records(domain: domain) }
            printJSON(records.map { ["name": $0.name, "type": $0.type, "value": $0.value, "ttl": $0.ttl] as [String: Any] })
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
            @Option(help: "rsa, ed25519 or both.") var algorithm: DKIMKeyChoice = .rsa

            func run() async throws {
                try await options.administer { admin throws(AdministrationError) in
                    try await admin.rotateDKIM(domain: domain, choice: algorithm, selector: selector)
                }
                let name = try Administration.domainName(domain)
                print("New key made for \(name). Publish its record now; keep the retired one until mail signed with it is delivered:")
                try await printRecords(name, options: options)
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a DKIM key (then remove its DNS record).")
            @OptionGroup var options: ConfigOption
            @Argument(help: "The domain.") var domain: String
            @Argument(help: "The key's selector.") var selector: String

            func run() async throws {
                try await options.administer { admin throws(AdministrationError) in try await admin.removeDKIMKey(domain: domain, selector: selector) }
                print("Removed \(selector)._domainkey.\(domain.lowercased()); delete its TXT record.")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a domain's DKIM keys.")
            @OptionGroup var options: ConfigOption
            @Argument(help: "The domain.") var domain: String
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let keys = try await options.administer { admin throws(AdministrationError) in try await admin.dkimKeys(domain: domain) }
                if json {
                    printJSON(
                        keys.map {
                            ["selector": $0.selector, "algorithm": $0.algorithm, "state": $0.state.rawValue,
                             "created_at": MessageDate.rfc3339(unixSeconds: $0.createdAt)]
                        })
                    return
                }
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
            let keys = (try? await TernEnvironment(configuration: configuration).openedForCommand().store.signingKeys(domain: domain.lowercased())) ?? []
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
            try await options.administer { admin throws(AdministrationError) in try await admin.setCatchAll(domain: domain, target: target) }
            let name = try Administration.domainName(domain)
            let normalized = try target.map { try Administration.address($0) }
            print(normalized.map { "Unknown addresses of \(name) now go to \($0)." } ?? "No catch-all for \(name).")
        }
    }
}
