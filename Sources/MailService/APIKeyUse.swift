import MailCore
import MailStore
import Synchronization

/// When each API key was last used, kept for the dashboard's keys page without a write per
/// request: a key's use is written at most once a minute (the page says "to the minute"), in
/// the background, so authenticating never waits on the store's writer.
final class APIKeyUse: Sendable {
    private let directory: any DirectoryRepository
    private let clock: @Sendable () -> Int
    /// The last second each key's use was written; bounded by the number of keys that exist.
    private let written = Mutex<[String: Int]>([:])
    static let interval = 60

    init(directory: any DirectoryRepository, clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }) {
        self.directory = directory
        self.clock = clock
    }

    func note(_ id: String) {
        let now = clock()
        let due = written.withLock { written -> Bool in
            if let last = written[id], now - last < Self.interval { return false }
            written[id] = now
            return true
        }
        guard due else { return }
        let directory = self.directory
        // Fire and forget: a lost write only leaves "last used" a minute older.
        Task { try? await directory.recordAPIKeyUse(id: id, at: now) }
    }
}
