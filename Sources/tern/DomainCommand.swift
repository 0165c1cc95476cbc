import ArgumentParser
import Foundation
import MailCore
import MailStore
import TernServer

struct DomainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Manage hosted domains.", subcommands: [Add.self, List.self, Check.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a hosted domain and print the DNS records to publish.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The domain, e.g. example.com.") var domain: String

        func run() async throws {
            guard let parsed = try? Domain(validating: domain, allowUTF8: true), parsed.kind == .name else {
                throw ValidationError("\(domain) is not a valid domain name")
            }
            let environment = try options.environment()
            do {
                try await environment.store.addDomain(parsed.normalized)
            } catch {
                throw OperationFailure(message: "\(error)")
            }
            print("Added \(parsed.normalized). Publish these DNS records:")
            for line in DNSRecordSuggestions.records(domain: parsed.normalized, hostname: environment.configuration.hostname) {
                print(line)
            }
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

extension DomainCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Look up a domain's MX, SPF and DMARC records through [dns] nameservers and say what is missing.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The domain.") var domain: String

        func run() async throws {
            let configuration = try options.load()
            let findings = await DomainCheck.run(
                domain: domain.lowercased(), hostname: configuration.hostname, resolver: TernDNS.resolver(configuration: configuration))
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
