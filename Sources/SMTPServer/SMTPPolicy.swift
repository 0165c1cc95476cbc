import Synchronization
import MailCore
import NIOCore
import SMTPProtocol

/// Who is on the other end of a connection, as far as policy cares.
public struct ConnectionInfo: Sendable {
    public var clientAddress: String
    public var listener: ListenerKind
    public var clientIsTrusted: Bool
    /// The account that authenticated with AUTH, once it has.
    public var authenticatedAs: String?
    /// The EHLO/HELO name, once given (SPF checks it and uses it for `<>`).
    public var heloName: String?
    /// Unique per connection in this process: work the policy starts for a connection (SPF at
    /// MAIL FROM) is found and cancelled by it.
    public let id: UInt64 = ConnectionInfo.nextID.add(1, ordering: .relaxed).newValue

    static let nextID = Atomic<UInt64>(0)

    public init(clientAddress: String, listener: ListenerKind, clientIsTrusted: Bool, authenticatedAs: String? = nil) {
        self.clientAddress = clientAddress
        self.listener = listener
        self.clientIsTrusted = clientIsTrusted
        self.authenticatedAs = authenticatedAs
    }
}

/// The decisions a session asks for while it runs. Answers come back as futures on the
/// connection's event loop, so cheap decisions need no task hop.
public protocol SMTPPolicy: Sendable {
    /// nil to accept MAIL FROM, or the refusal.
    func checkSender(_ path: ReversePath, _ parameters: MailParameters, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    /// nil to accept RCPT TO, or the refusal.
    /// `accepted` is how many recipients this transaction already has (plan limits count them).
    func checkRecipient(_ recipient: EnvelopeRecipient, accepted: Int, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    /// Stores the message durably; the queue id, or why not.
    func store(_ envelope: Envelope, content: ByteBuffer, trace: TransactionTrace, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<Result<String, StoreRefusal>>
    /// The connection is gone: work started for it is no longer wanted.
    func connectionClosed(_ connection: ConnectionInfo)
}

extension SMTPPolicy {
    public func connectionClosed(_ connection: ConnectionInfo) {}
}
