/// What an IMAP session needs from its connection: write bytes (waiting while the peer does
/// not read), turn TLS on, close. The NIO handler implements it; tests use a recorder.
public protocol IMAPTransport: Sendable {
    /// Writes and flushes; returns once the connection can take more (bounded output).
    func send(_ bytes: [UInt8]) async
    /// Writes `reply` (the tagged OK) and starts TLS at once, with no read in between; input
    /// buffered so far is discarded (RFC 9051 §6.2.1: no plaintext may be read after STARTTLS).
    func startTLS(after reply: [UInt8]) async -> Bool
    func close() async
    /// Reading more input may go on (the session finished a command).
    func commandFinished()
    /// The client logged in: larger literals (APPEND) may come now.
    func authenticated()
}

/// What reaches a session, in order: the client's commands (and continuation lines), and
/// events from outside (another session changed the mailbox, a timer tick).
public enum IMAPSessionInput: Sendable {
    case command([UInt8])
    case lineTooLong(tag: String?)
    case literalTooLarge(tag: String?, mustClose: Bool)
    /// A folder of the user changed (`mailboxID` nil: which one is unknown) up to `modSeq`.
    case mailboxChanged(mailboxID: Int?, modSeq: Int)
    case tick
    case closed
}
