import Foundation
import MailStore
import MailStorePostgres
import Testing

/// RFC 1939 §8's exclusive maildrop lock: one session per user, on one node or across nodes
/// sharing PostgreSQL; a holder that dies stops holding it once its time runs out.
@Suite struct MaildropLockTests {
    @Test func oneSessionPerUserInOneProcess() {
        let locks = MaildropLocks()
        #expect(locks.acquire("Alice@example.test"))
        #expect(!locks.acquire("alice@EXAMPLE.test"))
        #expect(locks.acquire("bob@example.test"))
        locks.release("alice@example.test")
        #expect(locks.acquire("alice@example.test"))
    }

    /// Polls until `condition` holds (bounded).
    static func eventually(_ limit: Duration, _ condition: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }

    @Test func oneSessionPerUserAcrossNodes() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let first = try #require(store as? PostgresStore)
            let second = try PostgresStore(url: first.url, poolSize: 2, logger: PostgresStore.quietLogger, node: "second")
            try await second.running {
                let a = PostgresMaildropLocks(store: first)
                let b = PostgresMaildropLocks(store: second)
                #expect(await a.acquire("alice@example.test"))
                #expect(await !a.acquire("alice@example.test"))
                #expect(await !b.acquire("ALICE@example.test"))
                #expect(await b.acquire("bob@example.test"))
                a.release("alice@example.test")
                let taken = try await Self.eventually(.seconds(5)) { await b.acquire("alice@example.test") }
                #expect(taken)
                #expect(await !a.acquire("alice@example.test"))
                b.release("alice@example.test")
                b.release("bob@example.test")
            }
        }
    }

    @Test func aDeadHoldersLockRunsOutAndALiveOneIsRenewed() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let first = try #require(store as? PostgresStore)
            let second = try PostgresStore(url: first.url, poolSize: 2, logger: PostgresStore.quietLogger, node: "second")
            try await second.running {
                // Never renewed (as if its node died): another node takes it after the expiry.
                let dead = PostgresMaildropLocks(store: first, expiry: 1, renewEvery: .seconds(3600))
                let other = PostgresMaildropLocks(store: second, expiry: 1, renewEvery: .seconds(3600))
                #expect(await dead.acquire("alice@example.test"))
                #expect(await !other.acquire("alice@example.test"))
                let takenOver = try await Self.eventually(.seconds(5)) { await other.acquire("alice@example.test") }
                #expect(takenOver)

                // Renewed while held: still held well past the expiry.
                let live = PostgresMaildropLocks(store: first, expiry: 1, renewEvery: .milliseconds(200))
                #expect(await live.acquire("carol@example.test"))
                try await Task.sleep(for: .seconds(3))
                #expect(await !other.acquire("carol@example.test"))
                live.release("carol@example.test")
                let released = try await Self.eventually(.seconds(5)) { await other.acquire("carol@example.test") }
                #expect(released)
            }
        }
    }
}
