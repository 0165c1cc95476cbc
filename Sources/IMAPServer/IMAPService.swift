import MailService
import MailStore
import NIOCore
import ProtocolEdge

/// The `imap` (STARTTLS) and `imaps` (implicit TLS, RFC 8314) listeners.
public final class IMAPService: Sendable {
    let settings: IMAPSessionSettings
    let authenticator: AccountAuthenticator
    let mailboxes: any MailboxRepository
    let listener: ProtocolListener
    let structures = MessageStructureCache()

    /// `listener.limits` is shared with SMTP and POP3: guessing over IMAP counts against the same client.
    public init(settings: IMAPSessionSettings, authenticator: AccountAuthenticator, mailboxes: any MailboxRepository, listener: ProtocolListener) {
        self.settings = settings
        self.authenticator = authenticator
        self.mailboxes = mailboxes
        self.listener = listener
    }

    public func bind(_ address: ListenerEndpoint) async throws(ListenError) -> any Channel {
        let settings = self.settings
        let authenticator = self.authenticator
        let mailboxes = self.mailboxes
        let tlsContext = listener.tlsContext
        let limits = listener.limits
        let logger = listener.logger
        let structures = self.structures
        return try await listener.bind(address) { _ in
            "* BYE [UNAVAILABLE] Too many connections\r\n"
        } makeHandler: { channel, client in
            let handler = IMAPConnectionHandler(client: client, tlsContext: tlsContext, maximumMessageSize: settings.maximumMessageSize, logger: logger)
            let transport = ChannelTransport(handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), eventLoop: channel.eventLoop)
            let continuation = handler.continuation
            let session = IMAPSession(
                settings: settings, transport: transport, mailboxes: mailboxes, authenticator: authenticator, limits: limits, client: client,
                structures: structures, tlsActive: address.implicitTLS, tlsAvailable: tlsContext != nil, wakeUp: { continuation.yield($0) })
            let input = handler.input
            let executor = EventLoopTaskExecutor(channel.eventLoop)
            handler.onActive = { Task(executorPreference: executor) { await session.run(input) } }
            return handler
        }
    }
}
