import Foundation
import MailStore
import Synchronization

/// POP3's maildrop lock shared by every node on one database (`maildrop_locks`): a row per
/// locked user naming the session that holds it, with an expiry the holder renews while the
/// session lasts. A node that dies leaves rows that run out within `expiry`, so a user is
/// locked out of POP3 for at most that long, never for good. Sessions on this node are
/// checked first in memory, as SQLite's locks are.
public final class PostgresMaildropLocks: MaildropLocking {
    let store: PostgresStore
    private let local = MaildropLocks()
    private let held = Mutex<[String: (holder: String, renewal: Task<Void, Never>)]>([:])
    /// Seconds a lock lasts without renewal, and how often the holder renews it.
    let expiry: Int
    let renewEvery: Duration

    public init(store: PostgresStore, expiry: Int = 120, renewEvery: Duration = .seconds(30)) {
        self.store = store
        self.expiry = expiry
        self.renewEvery = renewEvery
    }

    public func acquire(_ user: String) async -> Bool {
        let key = user.lowercased()
        guard local.acquire(key) else { return false }
        let holder = "\(store.node)/\(UUID().uuidString)"
        do {
            guard try await store.takeMaildropLock(key, holder: holder, seconds: expiry) else {
                local.release(key)
                return false
            }
        } catch {
            store.logger.warning("maildrop lock of \(key) not checked: \(error)")
            local.release(key)
            return false
        }
        let (store, expiry, every) = (self.store, self.expiry, renewEvery)
        let renewal = Task {
            while !Task.isCancelled {
                do { try await Task.sleep(for: every) } catch { return }
                if (try? await store.renewMaildropLock(key, holder: holder, seconds: expiry)) == false {
                    store.logger.warning("maildrop lock of \(key) was lost (expired and taken)")
                    return
                }
            }
        }
        held.withLock { $0[key] = (holder, renewal) }
        return true
    }

    public func release(_ user: String) {
        let key = user.lowercased()
        guard let lock = held.withLock({ $0.removeValue(forKey: key) }) else { return }
        lock.renewal.cancel()
        // This node's next session for the user waits for the row to go (it stays locked in
        // memory until then); should the delete fail, the row runs out by itself.
        let (store, local) = (self.store, self.local)
        Task {
            try? await store.releaseMaildropLock(key, holder: lock.holder)
            local.release(key)
        }
    }
}

extension PostgresStore {
    /// Takes the row when nobody holds it or the holder's time ran out (the database's clock
    /// decides, so nodes' clocks need not agree).
    func takeMaildropLock(_ account: String, holder: String, seconds: Int) async throws(StoreError) -> Bool {
        try await !rows(
            """
            INSERT INTO maildrop_locks(account, node, expires_at)
            VALUES (\(account), \(holder), extract(epoch from now())::bigint + \(Int64(seconds)))
            ON CONFLICT (account) DO UPDATE SET node = EXCLUDED.node, expires_at = EXCLUDED.expires_at
            WHERE maildrop_locks.expires_at < extract(epoch from now())::bigint
            RETURNING 1
            """
        ).isEmpty
    }

    /// False when the row is no longer this holder's.
    func renewMaildropLock(_ account: String, holder: String, seconds: Int) async throws(StoreError) -> Bool {
        try await !rows(
            """
            UPDATE maildrop_locks SET expires_at = extract(epoch from now())::bigint + \(Int64(seconds))
            WHERE account = \(account) AND node = \(holder) RETURNING 1
            """
        ).isEmpty
    }

    func releaseMaildropLock(_ account: String, holder: String) async throws(StoreError) {
        try await rows("DELETE FROM maildrop_locks WHERE account = \(account) AND node = \(holder)")
    }
}
