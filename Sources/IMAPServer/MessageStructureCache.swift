import MailCore
import Synchronization

/// Parsed MIME trees of stored messages, shared by every session, so a client that fetches
/// ENVELOPE or BODYSTRUCTURE for a whole mailbox, then again, parses each message once.
/// Keyed by folder, UIDVALIDITY and UID (never reused for other content); least recently
/// used entries go first once `capacity` trees are held.
public final class MessageStructureCache: Sendable {
    public struct Key: Hashable, Sendable {
        public var mailboxID: Int
        public var uidValidity: Int
        public var uid: Int

        public init(mailboxID: Int, uidValidity: Int, uid: Int) {
            self.mailboxID = mailboxID
            self.uidValidity = uidValidity
            self.uid = uid
        }
    }

    private struct State {
        var entries: [Key: (part: MIMEPart, stamp: Int)] = [:]
        var clock = 0
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The tree for `key`, parsing `content` when it is not held.
    public func structure(_ key: Key, content: [UInt8]) -> MIMEPart {
        if let found = state.withLock({ state -> MIMEPart? in
            guard let entry = state.entries[key] else { return nil }
            state.clock += 1
            state.entries[key] = (entry.part, state.clock)
            return entry.part
        }) {
            return found
        }
        let parsed = MIMEPart(message: content)
        state.withLock { state in
            state.clock += 1
            state.entries[key] = (parsed, state.clock)
            if state.entries.count > capacity {
                // Evict the oldest tenth at once, so eviction stays cheap per insertion.
                let oldest = state.entries.sorted { $0.value.stamp < $1.value.stamp }.prefix(max(1, capacity / 10)).map(\.key)
                for key in oldest { state.entries.removeValue(forKey: key) }
            }
        }
        return parsed
    }

    /// The tree for `key` if it is held (no parsing).
    public func cached(_ key: Key) -> MIMEPart? {
        state.withLock { $0.entries[key]?.part }
    }

    public var count: Int { state.withLock { $0.entries.count } }
}
