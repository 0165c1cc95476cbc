import MailCore
import MailService
import MailStore
import NIOCore
import SMTPProtocol

/// The SMTP face of `MessageIntake`: the session's questions become intake calls, and each
/// `IntakeRefusal` its exact reply. The rules themselves (hosted recipients only on the MX,
/// authentication or a trusted network to relay, plans, quotas, signing and inbound checks,
/// durable storage before 250) live in the intake, shared with the HTTP API.
public struct ReceivingPolicy: SMTPPolicy {
    public var intake: MessageIntake

    public init(intake: MessageIntake) {
        self.intake = intake
    }

    public init(
        hostname: String, directory: any DirectoryRepository, queue: any QueueRepository, plans: [String: PlanLimits] = [:],
        clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }, hasFreeSpace: @escaping @Sendable () -> Bool
    ) {
        intake = MessageIntake(hostname: hostname, directory: directory, queue: queue, plans: plans, clock: clock, hasFreeSpace: hasFreeSpace)
    }

    /// DKIM signing and SPF/DKIM/DMARC checks; nil does neither.
    public var authentication: MessageAuthentication? {
        get { intake.authentication }
        set { intake.authentication = newValue }
    }

    /// Hosted mailboxes, for the quota check at the end of DATA; nil skips it.
    public var mailboxes: (any MailboxRepository)? {
        get { intake.mailboxes }
        set { intake.mailboxes = newValue }
    }

    public func checkSender(_ path: ReversePath, _ parameters: MailParameters, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    {
        eventLoop.makeSucceededFuture(intake.checkSender(path, declaredSize: parameters.size, origin: connection.origin).map(SMTPReply.init))
    }

    public func checkRecipient(_ recipient: EnvelopeRecipient, accepted: Int, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    {
        eventLoop.makeSucceededFuture(intake.checkRecipient(recipient.path, accepted: accepted, origin: connection.origin).map(SMTPReply.init))
    }

    /// RFC 5322 §3.6 and the account's sending domains, as the reply after DATA; nil when fine.
    public func headerRefusal(_ content: ByteBuffer, connection: ConnectionInfo) -> SMTPReply? {
        intake.headerRefusal(content, origin: connection.origin).map(SMTPReply.init)
    }

    public func store(_ envelope: Envelope, content: ByteBuffer, trace: TransactionTrace, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<Result<String, StoreRefusal>>
    {
        let promise = eventLoop.makePromise(of: Result<String, StoreRefusal>.self)
        var origin = connection.origin
        origin.heloName = trace.heloName
        let listener = connection.listener.rawValue
        intake.accept(envelope, content: content, withProtocol: trace.withProtocol, origin: origin) { result in
            if case .success = result { ServiceMetrics.accepted(listener: listener) }
            promise.succeed(result.mapError(StoreRefusal.init))
        }
        return promise.futureResult
    }

    public func connectionClosed(_ connection: ConnectionInfo) {
        intake.connectionClosed(connection.origin)
    }
}

extension ConnectionInfo {
    /// The intake's view of this connection.
    var origin: MessageOrigin {
        MessageOrigin(
            clientAddress: clientAddress, heloName: heloName ?? "", account: authenticatedAs, isTrusted: clientIsTrusted, atMX: listener == .mx,
            connectionID: id)
    }
}

extension StoreRefusal {
    /// What the end of DATA answers for a refused message.
    init(_ refusal: IntakeRefusal) {
        switch refusal {
        case .storageFailed: self = .failed
        case .insufficientStorage: self = .insufficientStorage
        default: self = .rejected(SMTPReply(refusal))
        }
    }
}
