import Synchronization

/// SPF checks begun at MAIL FROM, by client, sender and HELO name (issue 12 item 2: bounded).
///
/// A connection has at most one check in flight: a new MAIL with another sender cancels the
/// one of its reset transaction, so pipelining thousands of MAIL/RSET pairs with changing senders
/// costs one task at a time (the same sender again reuses its check). The whole table holds
/// at most `capacity` checks; when it is full the oldest is cancelled. A cancelled check stops
/// at its next DNS lookup; a transaction that reaches the end of DATA without its early check
/// simply starts one then.
final class EarlySPF: Sendable {
    private struct Entry {
        var task: Task<MessageAuthentication.SPFPair, Never>
        var client: String
    }

    private struct Table {
        var entries: [String: Entry] = [:]
        /// Each client's keys, oldest first (at most `perClient`).
        var byClient: [String: [String]] = [:]

        mutating func remove(_ key: String) -> Task<MessageAuthentication.SPFPair, Never>? {
            guard let entry = entries.removeValue(forKey: key) else { return nil }
            byClient[entry.client]?.removeAll { $0 == key }
            if byClient[entry.client]?.isEmpty == true { byClient[entry.client] = nil }
            return entry.task
        }
    }

    private let table = Mutex(Table())
    static let capacity = 10_000

    static func key(_ client: String, _ mailFrom: String, _ helo: String) -> String { "\(client)\u{0}\(mailFrom)\u{0}\(helo)" }

    func start(key: String, client: String, _ body: @escaping @Sendable () async -> MessageAuthentication.SPFPair) {
        let cancelled: [Task<MessageAuthentication.SPFPair, Never>] = table.withLock { table in
            if table.entries[key] != nil { return [] }  // the same check is already running
            var evicted: [Task<MessageAuthentication.SPFPair, Never>] = []
            // A connection's earlier checks belong to transactions it has reset (connection 0,
            // a caller without connections, keeps them all).
            if !client.hasSuffix("#0") {
                for old in table.byClient[client] ?? [] { if let task = table.remove(old) { evicted.append(task) } }
            }
            // Full (many clients at once): any one goes; each client holds only a few.
            if table.entries.count >= Self.capacity, let any = table.entries.first?.key, let task = table.remove(any) { evicted.append(task) }
            table.entries[key] = Entry(task: Task { await body() }, client: client)
            table.byClient[client, default: []].append(key)
            return evicted
        }
        for task in cancelled { task.cancel() }
    }

    func take(key: String) -> Task<MessageAuthentication.SPFPair, Never>? {
        table.withLock { $0.remove(key) }
    }

    /// Cancels every check begun for `client` (its connection went away).
    func cancel(client: String) {
        let tasks = table.withLock { table -> [Task<MessageAuthentication.SPFPair, Never>] in
            (table.byClient[client] ?? []).compactMap { table.remove($0) }
        }
        for task in tasks { task.cancel() }
    }

    /// The client a connection's checks are filed under.
    static func client(_ address: String, connection: UInt64) -> String { "\(address)#\(connection)" }

    /// Checks in flight (for tests).
    var count: Int { table.withLock { $0.entries.count } }
}
