import MailService
import MailStore
import NIOCore
import POP3Protocol
import ProtocolEdge

/// Settings of the POP3 listeners (`[pop3]`).
public struct POP3ServiceSettings: Sendable {
    public var hostname: String
    /// USER/PASS and AUTH without TLS (`[pop3] allow_plaintext`); off by default.
    public var allowPlaintext: Bool
    public var mechanisms: [String]
    /// RFC 1939 §3: an autologout timer of at least 10 minutes.
    public var idleTimeout: TimeAmount

    public init(
        hostname: String, allowPlaintext: Bool = false, mechanisms: [String] = ["PLAIN", "LOGIN", "SCRAM-SHA-256"],
        idleTimeout: TimeAmount = .minutes(10)
    ) {
        self.hostname = hostname
        self.allowPlaintext = allowPlaintext
        self.mechanisms = mechanisms
        self.idleTimeout = idleTimeout
    }
}

/// The `pop3` (STLS) and `pop3s` (implicit TLS, RFC 8314) listeners.
public final class POP3Service: Sendable {
    let settings: POP3ServiceSettings
    let authenticator: AccountAuthenticator
    let mailboxes: any MailboxRepository
    let listener: ProtocolListener
    let locks: any MaildropLocking

    /// `listener.limits` is shared with SMTP, so guessing over POP3 counts against the same client.
    /// `locks`: this process's (SQLite), or the database's when nodes share PostgreSQL.
    public init(
        settings: POP3ServiceSettings, authenticator: AccountAuthenticator, mailboxes: any MailboxRepository, listener: ProtocolListener,
        locks: any MaildropLocking = MaildropLocks()
    ) {
        self.locks = locks
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
        let locks = self.locks
        let logger = listener.logger
        return try await listener.bind(address) { _ in
            "-ERR [SYS/TEMP] Too many connections\r\n"
        } makeHandler: { _, client in
            let configuration = POP3Session.Configuration(
                hostname: settings.hostname, tlsActive: address.implicitTLS, tlsAvailable: tlsContext != nil,
                allowPlaintext: settings.allowPlaintext, mechanisms: settings.mechanisms)
            return POP3ConnectionHandler(
                session: POP3Session(configuration: configuration), client: client, authenticator: authenticator, mailboxes: mailboxes,
                tlsContext: tlsContext, limits: limits, locks: locks, idleTimeout: settings.idleTimeout, logger: logger)
        }
    }
}
