import SMTPProtocol

/// Facts about one connection for the attempt log and the DSN.
public struct ConnectionDetails: Hashable, Sendable {
    /// The MX (or route) host name that was dialled.
    public var host: String
    /// The IP address connected to.
    public var address: String
    /// The TLS version, nil for plaintext.
    public var tlsVersion: String?

    public init(host: String, address: String, tlsVersion: String?) {
        self.host = host
        self.address = address
        self.tlsVersion = tlsVersion
    }

    /// `mx.example[192.0.2.1]`, the way Postfix names a peer.
    public var peerName: String { "\(host)[\(address)]" }
}

/// An open SMTP session with a next hop, ready for transactions.
public protocol OutboundConnection: AnyObject, Sendable {
    var details: ConnectionDetails { get }
    /// Transactions one after another on this connection (one hop for the batch, not one per
    /// message); for each message one result per recipient. Never throws: what a broken
    /// connection left unsent is deferred.
    func send(_ messages: [OutboundMessage]) async -> [[RecipientResult]]
    /// False once the peer closed, timed out or failed the session.
    var isOpen: Bool { get }
    /// QUIT and close.
    func close() async
    /// Closes at once, from any thread, without QUIT: a `send` in progress returns, with what
    /// it had not finished deferred (shutdown past its grace time).
    func abort()
}

/// Why a connection could not be made ready: refused, timed out, a 4xx/5xx greeting, EHLO
/// refused. The reply is what the deferral records.
public struct ConnectFailure: Error, Sendable {
    public var reply: SMTPReply
    public var fromRemote: Bool

    public init(reply: SMTPReply, fromRemote: Bool) {
        self.reply = reply
        self.fromRemote = fromRemote
    }
}

/// Opens sessions: `SMTPClient` over NIO in the server, a script in tests.
public protocol OutboundConnector: Sendable {
    func connect(host: String, address: String, port: Int) async -> Result<any OutboundConnection, ConnectFailure>
}
