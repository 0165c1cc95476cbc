import ArgumentParser
import Foundation
import Logging
import MailService
import TernServer

/// The `tern` command line: a thin front over `TernServer`.
@main
struct TernMain {
    static func main() async {
        do {
            var command = try Tern.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("tern: \(error)\n".utf8))
            exit(2)
        } catch let error as OperationFailure {
            FileHandle.standardError.write(Data("tern: \(error.message)\n".utf8))
            exit(1)
        } catch {
            let code = Tern.exitCode(for: error)
            if code == .success || error is CleanExit {
                Tern.exit(withError: error)
            }
            FileHandle.standardError.write(Data((Tern.fullMessage(for: error) + "\n").utf8))
            // DESIGN.md: 2 for bad usage or configuration, 1 when an operation failed.
            exit(code == .validationFailure ? 2 : 1)
        }
    }
}

/// An operation that failed (exit code 1), as opposed to bad usage (exit code 2).
struct OperationFailure: Error {
    var message: String
}

struct Tern: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "Tern: a mail server — SMTP submission and relay, MX, POP3 and IMAP — in one binary.",
        subcommands: [
            Serve.self, DomainCommand.self, UserCommand.self, AliasCommand.self, MailboxCommand.self, KeyCommand.self, QueueCommand.self,
            SuppressionCommand.self, SandboxCommand.self, TemplateCommand.self, StoreCommand.self,
            Version.self,
        ])
}

/// `--config FILE`, shared by every command.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: ./tern.toml if present, else built-in defaults).")
    var config: String?

    func load() throws -> TernConfiguration {
        try TernConfiguration.load(path: config)
    }

    /// The store, ready (with PostgreSQL: connected, migrated, the directory loaded).
    func environment() async throws -> TernEnvironment {
        try await TernEnvironment(configuration: load()).openedForCommand()
    }

    /// Runs an administrative operation: a usage mistake exits 2, a failed operation 1.
    func administer<T>(_ body: (Administration) async throws(AdministrationError) -> T) async throws -> T {
        let administration = try await environment().administration
        do {
            return try await body(administration)
        } catch {
            if error.isUsageError { throw ValidationError(error.description) }
            throw OperationFailure(message: error.description)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run every configured listener and worker until SIGINT or SIGTERM.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let configuration = try options.load()
        let level = ProcessInfo.processInfo.environment["TERN_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        LoggingSystem.bootstrap { label in LogLineHandler(label: label, level: level) }
        try await TernRuntime.serve(configuration: configuration, logger: Logger(label: "tern"))
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    static let version = "0.1.0"

    func run() {
        print("tern \(Self.version)")
    }
}
