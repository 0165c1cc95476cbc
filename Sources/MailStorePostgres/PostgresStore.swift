import Logging
import MailCore
import MailStore
import NIOSSL
import PostgresNIO
import Synchronization

/// The PostgreSQL store (issue 17): several `tern` nodes share one database. A pool of
/// connections (postgres-nio's `PostgresClient`) that must be running (`run()`, a child of the
/// server's service group, or of a test's task group) while the store is used. Every session
/// runs with `synchronous_commit = on`, so a commit that returned is on the primary's disk: an
/// accepted message is answered `250` only after that.
///
/// The repositories are implemented one by one in `PostgresStore+*.swift`, each checked by the
/// same contract tests as the SQLite store (Tests/StoreContractTests).
public final class PostgresStore: Sendable {
    public let url: PostgresURL
    let client: PostgresClient
    let logger: Logger
    /// The TLS settings `url` asks for (nil: `sslmode=disable`).
    let tlsConfiguration: TLSConfiguration?
    /// `user+tag@domain` delivers to `user@domain` ("" turns it off), as SQLite's store.
    public let subaddressSeparator: String
    /// Whether this store keeps `DirectorySnapshot` current (a node does; a tool that only
    /// creates databases does not).
    let followsDirectory: Bool
    /// The directory in memory for the synchronous reads; nil until first loaded.
    let snapshot = Mutex<DirectorySnapshot?>(nil)
    /// Group commit of accepted mail.
    let spool = PostgresCommitSpool()
    /// This node's name in the leases it takes (`releaseLeases` hands back only its own).
    public let node: String
    /// Wakes this node's IMAP sessions: after its own changes at once, after other nodes'
    /// on their `tern_mailbox` notification.
    public let mailboxSignals = MailboxSignals()
    /// Called when any node has committed mail that waits for delivery (`tern_queue`).
    let queueObservers = Mutex<[@Sendable () -> Void]>([])

    /// Connections in the pool, at most.
    public static let defaultPoolSize = 16

    /// A logger for commands and tests: errors only. (The pool warns when a query waits for
    /// `run()` to start, which `running` makes a matter of microseconds.)
    public static var quietLogger: Logger {
        var logger = Logger(label: "tern.postgres")
        logger.logLevel = .error
        return logger
    }

    public init(
        url: PostgresURL, poolSize: Int = defaultPoolSize, logger: Logger = Logger(label: "tern.postgres"), subaddressSeparator: String = "+",
        followsDirectory: Bool = true, node: String = "tern"
    ) throws(StoreError) {
        self.node = node
        self.url = url
        self.logger = logger
        self.subaddressSeparator = subaddressSeparator
        self.followsDirectory = followsDirectory
        let tls: PostgresClient.Configuration.TLS
        switch url.tlsMode {
        case .disable:
            tlsConfiguration = nil
            tls = .disable
        case .prefer, .require:
            // libpq's meaning: encrypted, the certificate not checked.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tlsConfiguration = configuration
            tls = url.tlsMode == .prefer ? .prefer(configuration) : .require(configuration)
        case .verifyFull:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            if let file = url.rootCertificate {
                do {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
                } catch {
                    throw .invalid("cannot read sslrootcert \(file): \(error)")
                }
            }
            tlsConfiguration = configuration
            tls = .require(configuration)
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        // A node holds one more connection for LISTEN, outside the `poolSize` its queries share.
        configuration.options.maximumConnections = max(1, poolSize) + (followsDirectory ? 1 : 0)
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(10)
        // Durable acceptance needs the commit on disk; a server default of `off` is overridden.
        configuration.options.additionalStartupParameters = [("synchronous_commit", "on"), ("application_name", "tern")]
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let signals = mailboxSignals
        spool.observers.withLock {
            $0.append { report in
                if !report.delivered.isEmpty { signals.changed(report.delivered.map(\.user)) }
            }
        }
    }

    /// Runs the connection pool, and (for a node) keeps the directory snapshot current, until
    /// the task is cancelled.
    public func run() async {
        guard followsDirectory else { return await client.run() }
        // The pool stops only after the followers have: a reload in flight when the task is
        // cancelled still has its connections (a lease from a stopped pool would wait forever).
        let pool = Task { await self.client.run() }
        await withDiscardingTaskGroup { followers in
            followers.addTask { await self.followNotifications() }
            followers.addTask { await self.refreshPeriodically() }
        }
        pool.cancel()
        await pool.value
    }

    /// Runs `body` while the pool runs (for commands and tests; `tern serve` runs `run()` as a
    /// service of its group). A store's pool runs once: call this (or `run()`) once per store.
    public func running<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// A statement outside any transaction (`CREATE DATABASE`, `DROP DATABASE`): for tests and
    /// tools of this package only, never with outside input.
    package func execute(administrative sql: String) async throws(StoreError) {
        try await rows(PostgresQuery(unsafeSQL: sql))
    }

    /// Makes one connection outside the pool and closes it: it fails at once with the reason
    /// (refused, unknown host, authentication, TLS) where the pool would keep retrying.
    public func checkConnection() async throws(StoreError) {
        do {
            let tls: PostgresConnection.Configuration.TLS
            switch (url.tlsMode, tlsConfiguration) {
            case (.prefer, let configuration?): tls = .prefer(try NIOSSLContext(configuration: configuration))
            case (_, let configuration?): tls = .require(try NIOSSLContext(configuration: configuration))
            case (_, nil): tls = .disable
            }
            var configuration = PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
            configuration.options.connectTimeout = .seconds(10)
            let connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: configuration, id: 0, logger: logger
            ).get()
            try await connection.close()
        } catch {
            throw .failure(Self.describe(error))
        }
    }

    /// What went wrong, in words: the server's message, else the network's, else the driver's
    /// code (postgres-nio's own description says nothing, to keep secrets out of logs).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return "\(message) (\(error.serverInfo?[.sqlState] ?? "?"))" }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    /// Checks that the database answers (a clear error at start instead of at the first mail).
    public func ping() async throws(StoreError) {
        _ = try await rows("SELECT 1")
    }

    /// A server setting as this store's sessions see it (`SHOW`), for checks and tests.
    package func setting(_ name: String) async throws(StoreError) -> String {
        guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { throw .invalid("not a setting name: \(name)") }
        return try await decoded(PostgresQuery(unsafeSQL: "SHOW \(name)")) { try $0.decode(String.self) }.first ?? ""
    }

    /// Applies the migrations not yet applied, in order, each in its own transaction, under a
    /// transaction-scoped advisory lock: two nodes starting at once apply each migration once.
    public func migrate() async throws(StoreError) {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS tern_migrations(name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)", logger: self.logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM tern_migrations", logger: self.logger).decode(String.self) {
                applied.insert(name)
            }
            for (name, sql) in PostgresSchema.migrations where !applied.contains(name) {
                for statement in Self.statements(sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO tern_migrations(name, applied_at) VALUES (\(name), extract(epoch from now())::bigint)", logger: self.logger)
            }
        }
        // A node answers directory reads from memory: load it now the schema is there.
        if followsDirectory { try await refreshDirectory() }
    }

    /// The migrations applied so far, by name.
    public func appliedMigrations() async throws(StoreError) -> [String] {
        try await decoded("SELECT name FROM tern_migrations ORDER BY name") { try $0.decode(String.self) }
    }

    /// An arbitrary number both nodes agree on, for `pg_advisory_xact_lock`.
    static let migrationLock: Int64 = 0x7465_726E_0001

    /// A migration's statements: they end with `;` at the end of a line (the schema has no
    /// function bodies, so no `;` inside a statement ends a line).
    static func statements(_ sql: String) -> [String] {
        var out: [String] = []
        var current = ""
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            current += line + "\n"
            if line.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
                out.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { out.append(rest) }
        return out
    }

    // MARK: - Running queries

    /// Every row of `query`, decoded by `transform`.
    func decoded<T>(_ query: PostgresQuery, _ transform: (PostgresRow) throws -> T) async throws(StoreError) -> [T] {
        let found = try await rows(query)
        do {
            return try found.map(transform)
        } catch {
            throw Self.storeError(error)
        }
    }

    static func now() -> Int { MessageDate.nowUnixSeconds() }

    /// Every row of `query`, collected (bounded by the queries, which all have limits).
    @discardableResult
    func rows(_ query: PostgresQuery) async throws(StoreError) -> [PostgresRow] {
        do {
            var out: [PostgresRow] = []
            for try await row in try await client.query(query, logger: logger) { out.append(row) }
            return out
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        // What failed inside a transaction comes wrapped: the closure's own error (a
        // `StoreError` the body threw, or the server's), else BEGIN's or COMMIT's.
        if let error = error as? PostgresTransactionError, let inner = error.closureError ?? error.beginError ?? error.commitError {
            return storeError(inner)
        }
        if let error = error as? PSQLError {
            switch error.serverInfo?[.sqlState] {
            case "23505"?: return .alreadyExists(error.serverInfo?[.message] ?? "row")
            case "53100"?: return .full
            default: return .failure(describe(error))
            }
        }
        return .failure("\(error)")
    }
}
