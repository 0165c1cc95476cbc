/// Everything `tern serve` and the commands use from a store: every repository, and the few
/// reads and hooks a running node needs besides. SQLite (one process) and PostgreSQL (many
/// nodes) both implement it, and one contract suite checks both.
public protocol ServerStore: DirectoryRepository, SigningKeyRepository, WebSessionRepository, TemplateRepository, DeliveryQueue,
    PendingQueueRepository, SuppressionRepository, ActivityRepository, EngagementRepository, SandboxRepository, WebhookRepository,
    MailboxRepository
{
    /// A message's content as kept: whole, its header section after delivery, or nothing.
    func storedContent(id: String) async throws(StoreError) -> StoredContent?
    /// When a message's content was deleted (nil: kept, or no such message).
    func contentDeletedAt(id: String) async throws(StoreError) -> Int?
    /// Recipients waiting or in flight, by state.
    func activeRecipientCounts() async throws(StoreError) -> [RecipientState: Int]
    /// Events not yet handed to the enabled webhooks that want them.
    func webhookBacklog() async throws(StoreError) -> Int
    /// Where the data lives (a path, or a database URL without its password) and its size.
    func storageSize() async throws(StoreError) -> (location: String, bytes: Int)
    /// `observer` sees each durable group commit this node made (what it delivered at once,
    /// whether the scheduler has work); it runs before the senders are answered.
    func observeCommits(_ observer: @escaping @Sendable (CommitReport) -> Void)
    /// `observer` runs when another node commits mail due for delivery (never, with one node).
    func observeQueue(_ observer: @escaping @Sendable () -> Void)
    /// POP3's maildrop locks, as wide as the store is shared.
    func makeMaildropLocks() -> any MaildropLocking
}
