import Foundation
import Logging
import MailService
import MailStore
import MailStorePostgres
import MailStoreSQLite

/// Opens what every command needs: the data directory and the store, SQLite in `data_dir` or
/// PostgreSQL shared by several nodes (`[store] backend`).
public struct TernEnvironment: Sendable {
    public let configuration: TernConfiguration
    public let store: any ServerStore
    /// The embedded store, when it is the one (its checkpoints run beside the server).
    public let sqlite: SQLiteStore?
    /// The shared store, when it is the one: its pool runs inside `open`.
    public let postgres: PostgresStore?

    /// The secret SCRAM decoy salts (and later signed links) derive from: in `data_dir` with
    /// SQLite, in the database with PostgreSQL (every node must answer alike, or the decoys
    /// would tell which users exist). Read by `open`.
    public private(set) var serverSecret: [UInt8] = []
    /// What was found too open and tightened at start; `tern serve` logs each as a warning.
    public private(set) var tightened: [String] = []

    public init(configuration: TernConfiguration, logger: Logger = PostgresStore.quietLogger) throws(ConfigurationError) {
        self.configuration = configuration
        // Every file Tern creates (the database and its WAL, keys, the secret) is the owner's
        // alone, whatever umask the process was started with.
        umask(0o077)
        let directory = configuration.dataDirectory
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ConfigurationError(key: "data_dir", "cannot create \(directory): \(error.localizedDescription)")
        }
        if Self.tighten(directory, to: 0o700) { tightened.append("data_dir \(directory) was open to others; it is now 0700") }
        switch configuration.store.backend {
        case .sqlite:
            let path = URL(fileURLWithPath: directory).appendingPathComponent("tern.sqlite").path
            let opened: SQLiteStore
            do {
                opened = try SQLiteStore(path: path, subaddressSeparator: configuration.delivery.subaddressSeparator)
            } catch {
                throw ConfigurationError(key: "data_dir", "cannot open \(path): \(error)")
            }
            for file in [path, path + "-wal", path + "-shm"] where Self.tighten(file, to: 0o600) {
                tightened.append("\(file) was readable by others; it is now 0600")
            }
            (store, sqlite, postgres) = (opened, opened, nil)
        case .postgres:
            guard let url = configuration.store.postgresURL else {
                throw ConfigurationError(key: "store.postgres.url", "backend = \"postgres\" needs the database's URL")
            }
            let opened: PostgresStore
            do {
                opened = try PostgresStore(
                    url: url, poolSize: configuration.store.poolSize, logger: logger,
                    subaddressSeparator: configuration.delivery.subaddressSeparator, node: Self.nodeName(configuration))
            } catch {
                throw ConfigurationError(key: "store.postgres.url", "\(error)")
            }
            (store, sqlite, postgres) = (opened, nil, opened)
        }
    }

    /// `[store.postgres] node`, else this machine's name and the absolute data directory: the
    /// same across restarts, different for two nodes on one machine.
    static func nodeName(_ configuration: TernConfiguration) -> String {
        if !configuration.store.node.isEmpty { return configuration.store.node }
        let directory = URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path
        return String("\(TernConfiguration.systemHostname()):\(directory)".prefix(200))
    }

    /// Runs `body` with the store ready: SQLite at once; PostgreSQL with its pool running, the
    /// migrations applied and the directory loaded, stopped when `body` returns. A database
    /// that cannot be reached is one `store.postgres.url` line.
    public func open<T: Sendable>(_ body: (TernEnvironment) async throws -> T) async throws -> T {
        guard let postgres else { return try await body(try withFileSecret()) }
        try await PostgresConnectionCheck.check(postgres, key: "store.postgres.url")
        return try await postgres.running { try await body(try await prepared(postgres)) }
    }

    /// The store ready for a command that ends with its process: as `open`, with the pool
    /// left running until the process exits (a command's last query is answered before it
    /// prints, and the database drops the connections when the process goes).
    public func openedForCommand() async throws -> TernEnvironment {
        guard let postgres else { return try withFileSecret() }
        try await PostgresConnectionCheck.check(postgres, key: "store.postgres.url")
        Task.detached { await postgres.run() }
        return try await prepared(postgres)
    }

    private func withFileSecret() throws -> TernEnvironment {
        var opened = self
        opened.serverSecret = try Self.serverSecret(in: configuration.dataDirectory)
        return opened
    }

    /// With the pool running: the migrations applied (and the directory loaded), the shared
    /// secret read.
    private func prepared(_ postgres: PostgresStore) async throws -> TernEnvironment {
        var opened = self
        do {
            try await postgres.migrate()
            opened.serverSecret = try await postgres.serverSecret()
        } catch {
            throw ConfigurationError(key: "store.postgres.url", "cannot use \(postgres.url.redacted): \(PostgresConnectionCheck.reason(error))")
        }
        return opened
    }

    /// Sets `path`'s mode to `mode` when it grants more; true when it did.
    static func tighten(_ path: String, to mode: mode_t) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o777 & ~mode != 0 else { return false }
        return chmod(path, mode) == 0
    }

    /// 32 random bytes in `data_dir/server-secret`, made once: written to a temporary file and
    /// linked into place, so two processes starting together agree on one and neither reads
    /// a half-written file.
    static func serverSecret(in directory: String) throws(ConfigurationError) -> [UInt8] {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("server-secret").path
        if !FileManager.default.fileExists(atPath: path) {
            let temporary = path + ".\(getpid()).tmp"
            let descriptor = Foundation.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard descriptor >= 0 else { throw ConfigurationError(key: "data_dir", "cannot create \(temporary)") }
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            let synced = fsync(descriptor) == 0
            close(descriptor)
            // link(2) fails when another process linked its secret first; then that one is used.
            if written == 32, synced { _ = link(temporary, path) }
            unlink(temporary)
        }
        _ = tighten(path, to: 0o600)
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw ConfigurationError(key: "data_dir", "\(path) is unreadable or not 32 bytes; remove it to make a new one")
        }
        return Array(data)
    }

    /// Domains, users, keys, plans, aliases and quotas over this store and configuration.
    public var administration: Administration {
        Administration(
            store: store, hostname: configuration.hostname, planNames: Set(configuration.plans.keys),
            keepsCRAMSecrets: configuration.auth.cramMD5)
    }
}
