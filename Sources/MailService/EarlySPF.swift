import Synchronization

/// SPF checks begun at MAIL FROM, by client, sender and HELO name. Bounded: a transaction that
/// never reaches the end of DATA leaves its entry until the table is full, then all are dropped.
final class EarlySPF: Sendable {
    private let tasks = Mutex<[String: Task<MessageAuthentication.SPFPair, Never>]>([:])
    static let capacity = 10_000

    static func key(_ client: String, _ mailFrom: String, _ helo: String) -> String { "\(client)\u{0}\(mailFrom)\u{0}\(helo)" }

    func start(key: String, _ body: @escaping @Sendable () async -> MessageAuthentication.SPFPair) {
        let task = Task { await body() }
        tasks.withLock { tasks in
            if tasks.count >= Self.capacity { tasks.removeAll(keepingCapacity: true) }
            tasks[key] = task
        }
    }

    func take(key: String) -> Task<MessageAuthentication.SPFPair, Never>? {
        tasks.withLock { $0.removeValue(forKey: key) }
    }
}
