import Logging
import MailStore
import MailStorePostgres

/// Opens a PostgreSQL store for a command or at start, and turns "cannot connect" into one
/// clear configuration line (exit 2) instead of a hang or a stack of driver errors.
public enum PostgresConnectionCheck {
    /// How long a connection may take before the database counts as unreachable.
    public static let timeout: Duration = .seconds(15)

    /// Connects, applies the migrations, and returns every migration applied by now.
    public static func migrate(url: PostgresURL, logger: Logger = PostgresStore.quietLogger) async throws(ConfigurationError) -> [String] {
        let store = try connectedTool(url: url, key: "store.postgres.url", logger: logger)
        try await check(store, key: "store.postgres.url")
        do {
            return try await store.running {
                try await withinTimeout { try await store.ping() }
                try await store.migrate()
                return try await store.appliedMigrations()
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(key: "store.postgres.url", "cannot use \(url.redacted): \(reason(error))")
        }
    }

    /// A store for a tool (no directory following), or one line naming `key`.
    static func connectedTool(url: PostgresURL, key: String, logger: Logger) throws(ConfigurationError) -> PostgresStore {
        do {
            return try PostgresStore(url: url, poolSize: 2, logger: logger, followsDirectory: false)
        } catch {
            throw ConfigurationError(key: key, "\(error)")
        }
    }

    /// One direct connection, so a database that cannot be reached is one line naming `key`
    /// before anything starts (the pool would keep retrying).
    static func check(_ store: PostgresStore, key: String) async throws(ConfigurationError) {
        do {
            try await store.checkConnection()
        } catch {
            throw ConfigurationError(key: key, "cannot connect to \(store.url.redacted): \(reason(error))")
        }
    }

    static func reason(_ error: any Error) -> String {
        if case .failure(let text)? = error as? StoreError { return text }
        return "\(error)"
    }

    static func withinTimeout(_ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            guard try await group.next() == true else {
                throw ConfigurationError(key: "store.postgres.url", "no answer within \(timeout)")
            }
        }
    }
}
