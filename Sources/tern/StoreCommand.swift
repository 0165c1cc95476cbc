import ArgumentParser
import Foundation
import MailStorePostgres
import TernServer

/// `tern store …`: the store itself (issue 17: PostgreSQL beside the embedded SQLite).
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "The store: bring its schema up to date, or copy it into PostgreSQL.",
        subcommands: [Migrate.self, Copy.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the store's migrations (the server also does at start). Safe to run on several nodes at once.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let configuration = try options.load()
            switch configuration.store.backend {
            case .sqlite:
                // Opening the SQLite store applies its migrations.
                _ = try TernEnvironment(configuration: configuration)
                print("sqlite store in \(configuration.dataDirectory): up to date")
            case .postgres:
                guard let url = configuration.store.postgresURL else {
                    throw ConfigurationError(key: "store.postgres.url", "backend = \"postgres\" needs the database's URL")
                }
                let applied = try await PostgresConnectionCheck.migrate(url: url)
                print("postgres store at \(url.redacted): up to date (\(applied.joined(separator: ", ")))")
            }
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy this install's SQLite store (domains, keys, users, queue, mailboxes, events…) into an empty PostgreSQL database.",
            discussion: "Stop `tern serve` first. Every table is copied in one transaction and its rows counted on both sides.")
        @OptionGroup var options: ConfigOption
        @Option(name: .long, help: "The database: postgres://user:password@host:port/database?sslmode=…") var to: String

        func run() async throws {
            let configuration = try options.load()
            guard configuration.store.backend == .sqlite else {
                throw ConfigurationError(key: "store.backend", "the copy reads the SQLite store; this configuration already uses postgres")
            }
            let url: PostgresURL
            do {
                url = try PostgresURL(parsing: to)
            } catch {
                throw ConfigurationError(key: "--to", error.description)
            }
            guard let source = try TernEnvironment(configuration: configuration).sqlite else { return }
            let copied = try await StoreCopy.run(from: source, to: url)
            for table in copied where table.rows > 0 { print("\(table.table): \(table.rows)") }
            print("copied \(copied.reduce(0) { $0 + $1.rows }) rows into \(url.redacted); counts match. Set [store] backend = \"postgres\" and [store.postgres] url to use it.")
        }
    }
}
