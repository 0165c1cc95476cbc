import MailStore

/// What an operator does to the queue, for every front end (the dashboard now; `tern queue`
/// reads the store directly): see what waits, make a message due now, remove it. A retry wakes
/// the delivery scheduler of this process, so it is tried at once.
public struct QueueControl: Sendable {
    public typealias Store = PendingQueueRepository & DeliveryQueue
    let store: any Store
    let clock: @Sendable () -> Int
    let wake: @Sendable () -> Void

    public init(store: any Store, clock: @escaping @Sendable () -> Int, wake: @escaping @Sendable () -> Void) {
        self.store = store
        self.clock = clock
        self.wake = wake
    }

    /// The most a listing returns.
    public static let maximumListed = 1000

    public func pending(limit: Int = maximumListed) async throws(StoreError) -> [PendingRecipient] {
        try await store.pendingRecipients(limit: min(limit, Self.maximumListed))
    }

    /// Makes the message's queued and deferred recipients due now; how many changed.
    public func retry(id: String) async throws(StoreError) -> Int {
        let changed = try await store.retryNow(id: id, at: clock())
        if changed > 0 { wake() }
        return changed
    }

    /// Removes the message (and every recipient of it) from the queue; false when it was not there.
    public func remove(id: String) async throws(StoreError) -> Bool {
        try await store.removeQueued(id: id)
    }
}
