import MailCore

/// Hosted domains and their users: who Tern receives mail for.
public protocol DirectoryRepository: Sendable {
    func addDomain(_ name: String) async throws(StoreError)
    func listDomains() async throws(StoreError) -> [HostedDomain]
    func isHostedDomain(_ name: String) async throws(StoreError) -> Bool
    func addUser(_ user: MailUser) async throws(StoreError)
    func listUsers() async throws(StoreError) -> [MailUser]
    func user(_ address: String) async throws(StoreError) -> MailUser?
    func removeUser(_ address: String) async throws(StoreError)
}

/// The durable queue. `enqueue` returns only once the message is on stable storage.
public protocol QueueRepository: Sendable {
    func enqueue(_ message: IncomingMessage) async throws(StoreError)
    func listQueue() async throws(StoreError) -> [QueuedMessage]
    func queuedMessage(id: String) async throws(StoreError) -> QueuedMessage?
    func content(id: String) async throws(StoreError) -> [UInt8]?
    /// Removes a message and its recipients; false when there was none.
    func removeQueued(id: String) async throws(StoreError) -> Bool
}
