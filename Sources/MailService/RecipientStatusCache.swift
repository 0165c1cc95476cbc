import MailStore
import Synchronization

/// Remembers recent positive answers of the directory for a short time, so a busy MX does not
/// open a database read per RCPT (Postfix's proxymap plays the same part). Only `exists` and
/// `notHosted` are kept; an unknown user is always asked again, so a user added with
/// `tern user add` receives mail at once, and a removed one stops within `lifetime`.
final class RecipientStatusCache: Sendable {
    private struct Entry {
        var status: RecipientStatus
        var expires: UInt64
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetimeNanoseconds: UInt64
    let capacity: Int

    init(lifetimeSeconds: Double = 2, capacity: Int = 10_000) {
        self.lifetimeNanoseconds = UInt64(lifetimeSeconds * 1e9)
        self.capacity = capacity
    }

    func status(for address: String, now: UInt64, lookup: () throws(StoreError) -> RecipientStatus) throws(StoreError) -> RecipientStatus {
        if let hit = entries.withLock({ $0[address] }), hit.expires > now {
            return hit.status
        }
        let status = try lookup()
        guard status != .unknownUser else { return status }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[address] = Entry(status: status, expires: now + lifetimeNanoseconds)
        }
        return status
    }
}
