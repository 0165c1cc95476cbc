/// Who hands a message to `MessageIntake`, as far as its rules care: the client, the account it
/// logged in as, and whether it came to the MX from outside (the only mail that is checked with
/// SPF, DKIM and DMARC; our own users' mail is signed instead).
public struct MessageOrigin: Sendable, Equatable {
    /// The client's IP address.
    public var clientAddress: String
    /// The EHLO/HELO name, once given ("" before); SPF checks it and uses it for `<>`.
    public var heloName: String
    /// The account that logged in (SMTP AUTH, an API key), or the trusted network's account.
    public var account: String?
    /// From `relay.trusted_networks`: may relay without logging in.
    public var isTrusted: Bool
    /// Arrived on the `smtp` listener (the MX), not on submission or the HTTP API.
    public var atMX: Bool
    /// The front end's connection (0: none); work started for it is cancelled with it.
    public var connectionID: UInt64
    /// The credential used is a sandbox key: the message is kept, never sent.
    public var sandbox = false

    public init(
        clientAddress: String, heloName: String = "", account: String? = nil, isTrusted: Bool = false, atMX: Bool, connectionID: UInt64 = 0
    ) {
        self.connectionID = connectionID
        self.clientAddress = clientAddress
        self.heloName = heloName
        self.account = account
        self.isTrusted = isTrusted
        self.atMX = atMX
    }

    /// Mail from elsewhere to a hosted domain: checked, never signed.
    public var isInboundFromOutside: Bool { account == nil && !isTrusted && atMX }

    /// May send to domains that are not hosted here.
    public var mayRelay: Bool { isTrusted || account != nil }
}
