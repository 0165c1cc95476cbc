import Foundation
import Logging
import MailCore
import MailStore
import MailStorePostgres
import MailStoreSQLite
import Testing

/// What the contract covers: everything a node uses from its store.
typealias ContractStore = ServerStore


/// One store implementation the contract runs on. PostgreSQL runs when `TERN_TEST_POSTGRES_URL`
/// names a server the test may create databases on (scripts/test starts a private cluster and
/// sets it); each test gets a database of its own, dropped at the end.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["TERN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The backends of this run: SQLite always, PostgreSQL when a server is given.
    static var available: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Runs `body` with a fresh, migrated store of this backend.
    func withStore(_ body: (any ContractStore) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-contract-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try await body(try SQLiteStore(path: directory.appendingPathComponent("tern.sqlite").path))
        case .postgres:
            let server = try PostgresURL(parsing: try #require(Self.postgresURL))
            let name = "tern_contract_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            var adminURL = server
            adminURL.database = "postgres"
            // A client's pool runs once: one `running` for the administrative connection.
            let admin = try PostgresStore(url: adminURL, poolSize: 1, logger: PostgresStore.quietLogger, followsDirectory: false)
            try await admin.running {
                try await admin.execute(administrative: "CREATE DATABASE \(name)")
                var testURL = server
                testURL.database = name
                let store = try PostgresStore(url: testURL, poolSize: 4, logger: PostgresStore.quietLogger)
                do {
                    try await store.running {
                        try await store.migrate()
                        try await body(store)
                    }
                } catch {
                    try? await admin.execute(administrative: "DROP DATABASE \(name) WITH (FORCE)")
                    throw error
                }
                try await admin.execute(administrative: "DROP DATABASE \(name) WITH (FORCE)")
            }
        }
    }
}

@Suite struct StoreBackendTests {
    /// CI sets TERN_REQUIRE_POSTGRES=1 with the URL of the cluster it started: the PostgreSQL
    /// half of the contract must not be skipped silently there.
    @Test func postgresRunsWhereItIsRequired() {
        if ProcessInfo.processInfo.environment["TERN_REQUIRE_POSTGRES"] == "1" {
            #expect(StoreBackend.postgresURL != nil, "TERN_REQUIRE_POSTGRES=1 but TERN_TEST_POSTGRES_URL is not set")
        }
    }
}
