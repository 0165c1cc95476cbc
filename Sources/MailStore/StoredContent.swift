/// What the store holds of a message: all of it while something needs it (a recipient not yet
/// done, a mailbox, the sandbox), then only the header section of an account's own message.
public enum StoredContent: Hashable, Sendable {
    case whole([UInt8])
    /// The header section kept after the content was deleted, and when that was.
    case header([UInt8], deletedAt: Int)
}
