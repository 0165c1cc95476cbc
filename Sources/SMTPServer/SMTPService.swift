import MailCore
import MailService
import NIOCore
import ProtocolEdge
import SMTPProtocol

/// Settings shared by every SMTP listener (connection caps and AUTH throttling are the shared
/// `AbuseLimits`).
public struct SMTPServiceSettings: Sendable {
    public var hostname: String
    public var maximumMessageSize: Int
    public var maximumRecipients: Int
    public var commandTimeout: TimeAmount
    public var connectionTimeout: TimeAmount
    public var trustedNetworks: [NetworkRange]
    /// The account trusted-network mail is attributed to, or nil.
    public var trustedAccount: String?
    /// SASL mechanisms offered on the submission listeners (never on the MX).
    public var authMechanisms: [String] = ["PLAIN", "LOGIN", "SCRAM-SHA-256"]

    public init(
        hostname: String, maximumMessageSize: Int, maximumRecipients: Int, commandTimeout: TimeAmount, connectionTimeout: TimeAmount,
        trustedNetworks: [NetworkRange]
    ) {
        self.hostname = hostname
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.commandTimeout = commandTimeout
        self.connectionTimeout = connectionTimeout
        self.trustedNetworks = trustedNetworks
    }
}

/// The SMTP listeners (MX, submission, implicit-TLS submission) and their connections.
public final class SMTPService: Sendable {
    private let settings: SMTPServiceSettings
    private let policy: any SMTPPolicy
    private let authenticator: AccountAuthenticator
    private let listener: ProtocolListener
    private let registry = ConnectionRegistry()

    /// `listener.limits` is the one `AbuseLimits` every protocol shares.
    public init(settings: SMTPServiceSettings, policy: any SMTPPolicy, authenticator: AccountAuthenticator, listener: ProtocolListener) {
        self.settings = settings
        self.policy = policy
        self.authenticator = authenticator
        self.listener = listener
    }

    /// Binds one listener of `kind`; throws `ListenError` naming the address when it cannot.
    public func bind(_ address: ListenerEndpoint, kind: ListenerKind) async throws(ListenError) -> any Channel {
        let settings = self.settings
        let policy = self.policy
        let authenticator = self.authenticator
        let tlsContext = listener.tlsContext
        let limits = listener.limits
        let registry = self.registry
        let logger = listener.logger
        var address = address
        address.implicitTLS = kind == .submissions
        return try await listener.bind(address) { refusal in
            (refusal == .connectionRate ? SMTPReply.connectionRateExceeded : SMTPReply.tooManyConnections).description
        } makeHandler: { _, client in
            let trusted = settings.trustedNetworks.contains { $0.contains(client) }
            let configuration = SMTPServerSessionConfiguration(
                hostname: settings.hostname, kind: kind,
                startTLSAvailable: tlsContext != nil && kind != .submissions,
                implicitTLS: kind == .submissions, clientIsTrusted: trusted,
                maximumMessageSize: settings.maximumMessageSize, maximumRecipients: settings.maximumRecipients,
                authMechanisms: kind == .mx ? [] : settings.authMechanisms,
                commandTimeout: settings.commandTimeout, connectionTimeout: settings.connectionTimeout)
            return SMTPConnectionHandler(
                configuration: configuration, policy: policy, authenticator: authenticator,
                connection: ConnectionInfo(
                    clientAddress: client, listener: kind, clientIsTrusted: trusted,
                    authenticatedAs: trusted ? settings.trustedAccount : nil),
                tlsContext: tlsContext, registry: registry, limits: limits, logger: logger)
        }
    }

    /// Live connections right now.
    public var activeConnections: Int { registry.count }

    /// Asks every session to finish its transaction and close with 421 4.3.2.
    public func beginShutdown() { registry.beginShutdown() }

    /// Waits until every session has closed (true), or `timeout` passed (false).
    public func waitUntilClosed(timeout: Duration) async -> Bool { await registry.waitUntilEmpty(timeout: timeout) }

    /// Closes every session that is not in the middle of a durable write.
    public func forceClose() { registry.forceClose() }
}
