import MailStore

/// What an operator checks first about a node: is it up and listening, is its disk filling, is
/// delivery keeping up, are webhooks behind, will its certificate expire. TernServer reads it
/// (it knows the files and listeners); the dashboard shows it, with `warnings` on top.
public struct ServerHealth: Sendable {
    public struct Listener: Hashable, Sendable {
        public var service: String
        public var address: String
        /// "STARTTLS", "implicit TLS", or "none".
        public var tls: String

        public init(service: String, address: String, tls: String) {
            self.service = service
            self.address = address
            self.tls = tls
        }
    }

    public var hostname: String
    public var now: Int
    public var startedAt: Int
    public var residentBytes: Int?
    public var listeners: [Listener]
    public var storePath: String
    /// The database with its write-ahead log.
    public var storeBytes: Int
    public var diskFreeBytes: Int?
    public var diskTotalBytes: Int?
    public var queue: [RecipientState: Int]
    /// When the most overdue waiting recipient became due; nil when nothing waits.
    public var oldestDueAt: Int?
    public var webhookBacklog: Int
    public var certificateExpiresAt: Int?
    /// The certificate Tern made itself because none was configured.
    public var certificateSelfSigned: Bool

    public init(
        hostname: String, now: Int, startedAt: Int, residentBytes: Int? = nil, listeners: [Listener] = [], storePath: String = "", storeBytes: Int = 0,
        diskFreeBytes: Int? = nil, diskTotalBytes: Int? = nil, queue: [RecipientState: Int] = [:], oldestDueAt: Int? = nil, webhookBacklog: Int = 0,
        certificateExpiresAt: Int? = nil, certificateSelfSigned: Bool = false
    ) {
        self.hostname = hostname
        self.now = now
        self.startedAt = startedAt
        self.residentBytes = residentBytes
        self.listeners = listeners
        self.storePath = storePath
        self.storeBytes = storeBytes
        self.diskFreeBytes = diskFreeBytes
        self.diskTotalBytes = diskTotalBytes
        self.queue = queue
        self.oldestDueAt = oldestDueAt
        self.webhookBacklog = webhookBacklog
        self.certificateExpiresAt = certificateExpiresAt
        self.certificateSelfSigned = certificateSelfSigned
    }

    /// Below this share of the disk free (or 1 GiB), the store may soon refuse mail: SQLite
    /// needs room for its write-ahead log, and a full disk makes every accept a 451.
    public static let diskFreeWarningPercent = 10
    public static let diskFreeWarningBytes = 1 << 30
    public static let certificateWarningDays = 14
    /// A recipient overdue by more than this means the scheduler is not keeping up (or is down).
    public static let deliveryBehindSeconds = 300
    public static let webhookBacklogWarning = 10_000

    public enum Warning: Hashable, Sendable {
        case diskLow(freeBytes: Int, freePercent: Int)
        case certificateExpired
        case certificateExpiring(days: Int)
        case certificateSelfSigned
        case deliveryBehind(seconds: Int)
        case webhookBacklog(events: Int)

        public var message: String {
            switch self {
            case .diskLow(let bytes, let percent):
                "The data disk has \(percent)% (\(bytes / 1_048_576) MiB) free; when it fills, mail is refused with 451. Free space or move data_dir."
            case .certificateExpired: "The TLS certificate has expired: clients that check it refuse to connect. Renew it and restart."
            case .certificateExpiring(let days): "The TLS certificate expires in \(days) \(days == 1 ? "day" : "days"). Renew it and restart."
            case .certificateSelfSigned:
                "TLS uses the self-signed certificate Tern made: mail clients will warn. Set [tls] certificate and private_key to a real one."
            case .deliveryBehind(let seconds):
                "Delivery is behind: a recipient has been due for \(seconds / 60) minutes. Check the log for delivery errors."
            case .webhookBacklog(let events): "\(events) events wait for webhook delivery: a receiver is failing or slow."
            }
        }
    }

    public var warnings: [Warning] {
        var found: [Warning] = []
        if let free = diskFreeBytes, let total = diskTotalBytes, total > 0 {
            let percent = Int(Double(free) * 100 / Double(total))
            if percent < Self.diskFreeWarningPercent || free < Self.diskFreeWarningBytes { found.append(.diskLow(freeBytes: free, freePercent: percent)) }
        }
        if let expires = certificateExpiresAt {
            if expires <= now {
                found.append(.certificateExpired)
            } else if expires - now < Self.certificateWarningDays * 86400 {
                found.append(.certificateExpiring(days: (expires - now) / 86400))
            }
        }
        if certificateSelfSigned { found.append(.certificateSelfSigned) }
        if let due = oldestDueAt, now - due > Self.deliveryBehindSeconds { found.append(.deliveryBehind(seconds: now - due)) }
        if webhookBacklog > Self.webhookBacklogWarning { found.append(.webhookBacklog(events: webhookBacklog)) }
        return found
    }
}
