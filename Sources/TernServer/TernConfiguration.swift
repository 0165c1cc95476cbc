import MailCore
import MailStorePostgres

/// The whole configuration schema (DESIGN.md "Surface"). Every key has a default; sections
/// for parts built later are parsed and validated already, so a config file never changes
/// meaning as Tern grows.
public struct TernConfiguration: Sendable, Equatable {
    public var hostname: String
    public var dataDirectory: String
    public var listen = Listen()
    public var tls = TLS()
    public var relay = Relay()
    public var dns = DNS()
    public var delivery = Delivery()
    public var limits = Limits()
    public var store = Store()
    public var auth = Auth()
    public var mailAuth = MailAuthSettings()
    public var pop3 = POP3Settings()
    public var imap = IMAPSettings()
    public var engagement = EngagementSettings()
    public var http = HTTPSettings()
    public var plans: [String: Plan] = ["free": Plan(dailyMessages: 100)]

    public init(hostname: String = TernConfiguration.systemHostname(), dataDirectory: String = "tern-data") {
        self.hostname = hostname
        self.dataDirectory = dataDirectory
    }

    /// `service = addresses`; an empty list disables the service.
    /// `[store]`: where Tern keeps everything. SQLite in `data_dir` by default; PostgreSQL
    /// (`[store.postgres] url`) for several nodes on one database.
    public struct Store: Sendable, Equatable {
        public enum Backend: String, Sendable, Equatable {
            case sqlite, postgres
        }

        public var backend = Backend.sqlite
        public var postgresURL: PostgresURL? = nil
        public var poolSize = PostgresStore.defaultPoolSize
        /// This node's name in the queue's leases (`[store.postgres] node`): at start a node
        /// takes back the leases under its own name, so it must be unique among the nodes and
        /// the same across restarts. Empty: the machine's name and the data directory.
        public var node = ""
    }

    public struct Listen: Sendable, Equatable {
        public var smtp = [ListenAddress(host: "127.0.0.1", port: 2525)]
        public var submission = [ListenAddress(host: "127.0.0.1", port: 5870)]
        public var submissions = [ListenAddress(host: "127.0.0.1", port: 4650)]
        public var imap = [ListenAddress(host: "127.0.0.1", port: 1430)]
        public var imaps: [ListenAddress] = []
        public var pop3 = [ListenAddress(host: "127.0.0.1", port: 1100)]
        public var pop3s: [ListenAddress] = []
        /// The HTTP API (SendGrid's v3 wire format), plain: loopback by default, for a proxy
        /// in front or local applications.
        public var http = [ListenAddress(host: "127.0.0.1", port: 8025)]
        /// The HTTP API over TLS, with the certificate SMTP uses.
        public var https: [ListenAddress] = []
    }

    /// `[http]`: the HTTP service (issue 13).
    public struct HTTPSettings: Sendable, Equatable {
        /// The base URL put into links in mail (tracking, unsubscribe); "" derives
        /// `http://hostname:port` from the first http listener.
        public var publicURL = ""
        /// Deliver webhooks to loopback and private addresses (tests; a private network).
        public var allowPrivateWebhooks = false
        /// The web dashboard at `/dashboard` on every HTTP listener.
        public var dashboard = true
        /// Serve Prometheus metrics at `/metrics` on the HTTP listeners (no key: keep those on
        /// loopback or a private network, or turn this off).
        public var metrics = true
        /// Seconds the oldest event of a webhook batch waits for more (SendGrid: within 30 s).
        public var webhookBatchDelay = 5
        /// Seconds before the first retry of a failed webhook delivery; doubles, up to 10 minutes.
        public var webhookRetryDelay = 5
    }

    /// Certificate and key in PEM; when both are empty a self-signed pair is made in data_dir.
    public struct TLS: Sendable, Equatable {
        public var certificate = ""
        public var privateKey = ""
    }

    public struct Relay: Sendable, Equatable {
        /// Networks that may relay without AUTH, like Postfix's mynetworks.
        public var trustedNetworks: [NetworkRange] = []
        /// The account their mail is attributed to (its plan, quotas and sending domains); empty:
        /// none, and trusted clients are not limited by a plan.
        public var trustedAccount = ""
    }

    public struct DNS: Sendable, Equatable {
        /// `host:port` of resolvers; empty means /etc/resolv.conf.
        public var nameservers: [ListenAddress] = []
    }

    public struct Delivery: Sendable, Equatable {
        public var smtpPort = 25
        /// Seconds between attempts, in order; the last repeats.
        public var retrySchedule: [Int] = [60, 300, 900, 1800, 3600, 7200, 14400]
        public var maxQueueAge = 5 * 86400
        /// Static routes: domain → `host:port`, like Postfix transport maps.
        public var routes: [String: ListenAddress] = [:]
        /// Sessions at once to one destination (Postfix's default_destination_concurrency_limit).
        public var maxConnectionsPerDestination = 20
        /// Check the next hop's certificate chain and name; off is opportunistic TLS (RFC 7435).
        public var verifyCertificates = false
        /// Seconds an outbound session with nothing to send stays open for the next message
        /// (Postfix's smtp_connection_cache_time_limit).
        public var connectionIdleTime = 2
        /// Seconds a node holds the recipients it leases before another may take them
        /// (`lease_time`); renewed every third of it while delivering. How long a dead
        /// node's work waits for another node.
        public var leaseTime = 600
        /// `user+tag@` is delivered to `user@` (RFC 5233); "" turns sub-addressing off.
        public var subaddressSeparator = "+"
        /// Dial loopback, RFC 1918, RFC 4193, link-local, CGNAT and other non-public addresses
        /// learned from DNS. Off: such mail bounces with 5.4.4. Static routes are always dialled.
        public var allowPrivateDestinations = false
        /// Where mail to `<Postmaster>` and `postmaster@` a hosted domain goes (RFC 5321
        /// §4.5.1); nil: the first user added.
        public var postmaster: String?
    }

    public struct Limits: Sendable, Equatable {
        public var maxMessageSize = 26_214_400
        public var maxRecipients = 100
        public var maxConnections = 1000
        public var maxConnectionsPerIP = 100
        public var commandTimeout = 300
        public var connectionTimeout = 1800
        /// Below this many free bytes on the data disk, MAIL gets 452 4.3.1.
        public var minFreeDisk = 100 * 1024 * 1024
        /// Seconds that shutdown waits for transactions in flight before closing with 421.
        public var shutdownGrace = 10
        /// New connections per client address per minute; 0 is unlimited (Postfix's default).
        public var maxConnectionRatePerIP = 0
        /// AUTH failures from one address before each answer is slowed (1 s more each, up to 5 s),
        /// and before the address may not AUTH for `authBlockTime` seconds.
        public var authFailuresBeforeDelay = 3
        public var authFailuresBeforeBlock = 10
        public var authBlockTime = 300
    }

    /// `[pop3]`.
    public struct POP3Settings: Sendable, Equatable {
        /// USER/PASS and AUTH before TLS; off, so passwords never cross the network in clear.
        public var allowPlaintext = false
    }

    /// `[engagement]`: open and click tracking (issue 15).
    public struct EngagementSettings: Sendable, Equatable {
        /// Account defaults; a message's `tracking_settings` (or X-SMTPAPI filters) override them.
        public var openTracking = false
        public var clickTracking = false
        /// Addresses of mail privacy proxies whose fetches are machine opens (Apple's 17/8 by default).
        public var machineOpenNetworks: [NetworkRange] = [NetworkRange("17.0.0.0/8")!]
        /// Where feedback-loop reports (ARF) arrive: a hosted address; "" reads none.
        public var abuseAddress = ""
        /// The `mailto:` of List-Unsubscribe: a hosted address whose mail unsubscribes; "" gives none.
        public var unsubscribeAddress = ""
    }

    /// `[imap]`.
    public struct IMAPSettings: Sendable, Equatable {
        /// LOGIN and AUTHENTICATE before TLS; off (LOGINDISABLED), as for POP3.
        public var allowPlaintext = false
    }

    /// `[mail_auth]`: DKIM signing and inbound SPF/DKIM/DMARC (issue 5).
    public struct MailAuthSettings: Sendable, Equatable {
        /// Sign mail from hosted domains that have a DKIM key (`tern domain add` makes one).
        public var sign = true
        /// Check SPF, DKIM and DMARC on mail arriving at the `smtp` listener from outside.
        public var checkInbound = true
        /// DMARC `p=reject` → `550 5.7.1`; false files such mail as Junk instead.
        public var dmarcReject = true
        /// Hosted domains whose recipients never get a DMARC rejection (Junk instead).
        public var dmarcRelaxedDomains: [String] = []
        /// The Public Suffix List DMARC uses for organizational domains.
        public var publicSuffixList = "/usr/share/publicsuffix/public_suffix_list.dat"
    }

    public struct Auth: Sendable, Equatable {
        /// CRAM-MD5 needs a password-equivalent secret on the server, so it is off by default.
        public var cramMD5 = false
    }

    /// A sending plan (quotas arrive with submission; the schema is fixed now).
    public struct Plan: Sendable, Equatable {
        public var dailyMessages: Int?
        public var hourlyMessages: Int?
        public var maxRecipientsPerMessage: Int?
        public var maxMessageSize: Int?
        public var messagesPerMinute: Int?

        public init(
            dailyMessages: Int? = nil, hourlyMessages: Int? = nil, maxRecipientsPerMessage: Int? = nil, maxMessageSize: Int? = nil,
            messagesPerMinute: Int? = nil
        ) {
            self.dailyMessages = dailyMessages
            self.hourlyMessages = hourlyMessages
            self.maxRecipientsPerMessage = maxRecipientsPerMessage
            self.maxMessageSize = maxMessageSize
            self.messagesPerMinute = messagesPerMinute
        }
    }

    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `host:port`, with IPv6 hosts in brackets: `127.0.0.1:2525`, `[::1]:2525`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !portText.isEmpty, portText.allSatisfy(\.isNumber), let port = Int(portText), (1...65535).contains(port) else {
            return nil
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
