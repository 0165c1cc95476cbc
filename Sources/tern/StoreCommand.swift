import ArgumentParser
import Foundation
import MailStorePostgres
import TernServer

/// `tern store …`: the store itself (issue 17: PostgreSQL beside the embedded SQLite).
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "The store: bring its schema up to date.", subcommands: [Migrate.self])

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
}
