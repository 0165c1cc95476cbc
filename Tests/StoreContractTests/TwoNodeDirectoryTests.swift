import Foundation
import MailCore
import MailStore
import MailStorePostgres
import Testing

/// Two nodes on one database: what one node writes to the directory, the other answers from
/// its in-memory snapshot within a second (the triggers' notification), with no restart.
@Suite struct TwoNodeDirectoryTests {
    @Test func aUserAddedOnOneNodeIsKnownToTheOther() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let first = try #require(store as? PostgresStore)
            let second = try PostgresStore(url: first.url, poolSize: 3, logger: PostgresStore.quietLogger)
            try await second.running {
                try await second.refreshDirectory()
                #expect(try second.recipientStatus(domain: "example.test", address: "alice@example.test") == .notHosted)
                try await first.addDomain("example.test")
                try await first.addUser(MailUser(address: "alice@example.test", passwordHash: "h", plan: "free", createdAt: 1))
                let seen = try await Self.within(.seconds(1)) {
                    (try? second.recipientStatus(domain: "example.test", address: "alice@example.test")) == .exists
                }
                #expect(seen, "node B did not learn of the new user within a second")

                // A key revoked on node B is refused by node A at once after the notification.
                try await first.addAPIKey(APIKeyRecord(id: "k1", user: "alice@example.test", name: "ci", secretHash: "h", createdAt: 1))
                #expect(try await Self.within(.seconds(1)) { (try? second.apiKey(id: "k1")) != nil })
                #expect(try await second.revokeAPIKey(id: "k1", at: 9))
                #expect(try await Self.within(.seconds(1)) { (try? first.apiKey(id: "k1"))??.revokedAt == 9 })
            }
        }
    }

    /// Polls `condition` until it holds or `limit` passes (bounded: a notification lost would
    /// fail the test, not hang it).
    static func within(_ limit: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}

/// Acceptance is durable only if the commit is: every session of the store runs with
/// `synchronous_commit = on`, even against a server whose default is `off`.
@Suite struct PostgresDurabilityTests {
    @Test func sessionsCommitSynchronouslyWhateverTheServerDefault() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let node = try #require(store as? PostgresStore)
            #expect(try await node.setting("synchronous_commit") == "on")
            // A database whose default is off: the store's sessions still commit synchronously.
            try await node.execute(administrative: "ALTER DATABASE \(node.url.database) SET synchronous_commit = off")
            let fresh = try PostgresStore(url: node.url, poolSize: 2, logger: PostgresStore.quietLogger, followsDirectory: false)
            let setting = try await fresh.running { try await fresh.setting("synchronous_commit") }
            #expect(setting == "on")
        }
    }
}
