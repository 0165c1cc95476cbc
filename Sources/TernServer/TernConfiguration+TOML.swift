import Foundation
import MailCore
import MailStorePostgres
import TOMLKit

extension TernConfiguration {
    /// Reads `path`; a missing file at the default path means built-in defaults.
    public static func load(path: String?) throws(ConfigurationError) -> TernConfiguration {
        let chosen = path ?? "tern.toml"
        guard FileManager.default.fileExists(atPath: chosen) else {
            if path != nil { throw ConfigurationError(key: "", "configuration file \(chosen) not found") }
            return TernConfiguration()
        }
        guard let data = FileManager.default.contents(atPath: chosen), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(key: "", "cannot read \(chosen) as UTF-8")
        }
        do {
            return try parse(text)
        } catch {
            throw ConfigurationError(key: error.key, "\(chosen): \(error.message)")
        }
    }

    /// Parses TOML text against the schema; unknown keys and bad values name their key.
    public static func parse(_ text: String) throws(ConfigurationError) -> TernConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(key: "", "line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        } catch {
            throw ConfigurationError(key: "", "\(error)")
        }
        var reader = TableReader(table: table, path: "")
        var config = TernConfiguration()
        if let v = try reader.string("hostname") {
            guard (try? Domain(validating: v)) != nil else { throw ConfigurationError(key: "hostname", "not a valid host name") }
            config.hostname = v
        }
        if let v = try reader.string("data_dir") {
            guard !v.isEmpty else { throw ConfigurationError(key: "data_dir", "must not be empty") }
            config.dataDirectory = v
        }
        if var store = try reader.table("store") {
            if let v = try store.string("backend") {
                guard let backend = TernConfiguration.Store.Backend(rawValue: v) else {
                    throw ConfigurationError(key: "store.backend", "expected \"sqlite\" or \"postgres\"")
                }
                config.store.backend = backend
            }
            if var postgres = try store.table("postgres") {
                if let v = try postgres.string("url") {
                    do {
                        config.store.postgresURL = try PostgresURL(parsing: v)
                    } catch {
                        throw ConfigurationError(key: "store.postgres.url", error.description)
                    }
                }
                if let v = try postgres.int("pool_size", in: 1...1000) { config.store.poolSize = v }
                if let v = try postgres.string("node") {
                    guard !v.isEmpty, v.count <= 200, v.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 0x21 && $0.asciiValue! < 0x7F }) else {
                        throw ConfigurationError(key: "store.postgres.node", "expected a name of 1 to 200 visible ASCII characters")
                    }
                    config.store.node = v
                }
                try postgres.finish()
            }
            try store.finish()
            if config.store.backend == .postgres && config.store.postgresURL == nil {
                throw ConfigurationError(key: "store.postgres.url", "backend = \"postgres\" needs the database's URL")
            }
        }
        if var listen = try reader.table("listen") {
            func addresses(_ key: String) throws(ConfigurationError) -> [ListenAddress]? { try listen.addresses(key) }
            if let v = try addresses("smtp") { config.listen.smtp = v }
            if let v = try addresses("submission") { config.listen.submission = v }
            if let v = try addresses("submissions") { config.listen.submissions = v }
            if let v = try addresses("imap") { config.listen.imap = v }
            if let v = try addresses("imaps") { config.listen.imaps = v }
            if let v = try addresses("pop3") { config.listen.pop3 = v }
            if let v = try addresses("pop3s") { config.listen.pop3s = v }
            if let v = try addresses("http") { config.listen.http = v }
            if let v = try addresses("https") { config.listen.https = v }
            try listen.finish()
        }
        if var http = try reader.table("http") {
            if let v = try http.string("public_url") {
                guard v.isEmpty || ((v.hasPrefix("http://") || v.hasPrefix("https://")) && URL(string: v)?.host != nil) else {
                    throw ConfigurationError(key: "http.public_url", "expected an http:// or https:// URL")
                }
                config.http.publicURL = v.hasSuffix("/") ? String(v.dropLast()) : v
            }
            if let v = try http.bool("allow_private_webhooks") { config.http.allowPrivateWebhooks = v }
            if let v = try http.bool("dashboard") { config.http.dashboard = v }
            if let v = try http.bool("metrics") { config.http.metrics = v }
            if let v = try http.duration("webhook_batch_delay") {
                guard v <= 30 else { throw ConfigurationError(key: "http.webhook_batch_delay", "at most 30s (events go out within 30 seconds)") }
                config.http.webhookBatchDelay = v
            }
            if let v = try http.duration("webhook_retry_delay") {
                guard v >= 1 else { throw ConfigurationError(key: "http.webhook_retry_delay", "at least 1s") }
                config.http.webhookRetryDelay = v
            }
            try http.finish()
        }
        if var tls = try reader.table("tls") {
            if let v = try tls.string("certificate") { config.tls.certificate = v }
            if let v = try tls.string("private_key") { config.tls.privateKey = v }
            try tls.finish()
            if config.tls.certificate.isEmpty != config.tls.privateKey.isEmpty {
                throw ConfigurationError(key: "tls", "set both certificate and private_key, or neither")
            }
        }
        if var relay = try reader.table("relay") {
            if let list = try relay.strings("trusted_networks") {
                config.relay.trustedNetworks = try list.map { (text: String) throws(ConfigurationError) -> NetworkRange in
                    guard let range = NetworkRange(text) else {
                        throw ConfigurationError(key: "relay.trusted_networks", "\"\(text)\" is not a CIDR network")
                    }
                    return range
                }
            }
            if let v = try relay.string("trusted_account") {
                guard v.isEmpty || (try? MailboxAddress(parsing: v)) != nil else {
                    throw ConfigurationError(key: "relay.trusted_account", "not an address")
                }
                config.relay.trustedAccount = v.lowercased()
            }
            try relay.finish()
        }
        if var dns = try reader.table("dns") {
            if let v = try dns.addresses("nameservers") { config.dns.nameservers = v }
            try dns.finish()
        }
        if var delivery = try reader.table("delivery") {
            if let v = try delivery.int("smtp_port", in: 1...65535) { config.delivery.smtpPort = v }
            if let list = try delivery.strings("retry_schedule") {
                guard !list.isEmpty else { throw ConfigurationError(key: "delivery.retry_schedule", "must not be empty") }
                config.delivery.retrySchedule = try list.map { (text: String) throws(ConfigurationError) -> Int in
                    try DurationText.seconds(text, key: "delivery.retry_schedule")
                }
            }
            if let v = try delivery.duration("max_queue_age") { config.delivery.maxQueueAge = v }
            if let v = try delivery.int("max_connections_per_destination", in: 1...1000) { config.delivery.maxConnectionsPerDestination = v }
            if let v = try delivery.bool("verify_certificates") { config.delivery.verifyCertificates = v }
            if let v = try delivery.bool("allow_private_destinations") { config.delivery.allowPrivateDestinations = v }
            if let v = try delivery.string("postmaster") {
                guard (try? MailboxAddress(parsing: v, allowUTF8: true))?.domain.kind == .name else {
                    throw ConfigurationError(key: "delivery.postmaster", "expected a user's address")
                }
                config.delivery.postmaster = v.lowercased()
            }
            if let v = try delivery.duration("connection_idle_time") { config.delivery.connectionIdleTime = v }
            if let v = try delivery.duration("lease_time") {
                guard v >= 3 else { throw ConfigurationError(key: "delivery.lease_time", "must be at least 3s") }
                config.delivery.leaseTime = v
            }
            if let v = try delivery.string("subaddress_separator") {
                guard v.count <= 1, !v.contains("@") else { throw ConfigurationError(key: "delivery.subaddress_separator", "one character, or \"\" for none") }
                config.delivery.subaddressSeparator = v
            }
            if var routes = try delivery.table("routes") {
                for key in routes.remainingKeys {
                    guard (try? Domain(validating: key)) != nil else {
                        throw ConfigurationError(key: "delivery.routes.\(key)", "not a domain")
                    }
                    guard let text = try routes.string(key), let address = ListenAddress(parsing: text) else {
                        throw ConfigurationError(key: "delivery.routes.\(key)", "expected \"host:port\"")
                    }
                    config.delivery.routes[key.lowercased()] = address
                }
                try routes.finish()
            }
            try delivery.finish()
        }
        if var limits = try reader.table("limits") {
            if let v = try limits.int("max_message_size", in: 1024...(2 << 30)) { config.limits.maxMessageSize = v }
            if let v = try limits.int("max_recipients", in: 1...100_000) { config.limits.maxRecipients = v }
            if let v = try limits.int("max_connections", in: 1...1_000_000) { config.limits.maxConnections = v }
            if let v = try limits.int("max_connections_per_ip", in: 1...1_000_000) { config.limits.maxConnectionsPerIP = v }
            if let v = try limits.duration("command_timeout") { config.limits.commandTimeout = v }
            if let v = try limits.duration("connection_timeout") { config.limits.connectionTimeout = v }
            if let v = try limits.int("min_free_disk", in: 0...Int.max) { config.limits.minFreeDisk = v }
            if let v = try limits.duration("shutdown_grace") { config.limits.shutdownGrace = v }
            if let v = try limits.int("max_connection_rate_per_ip", in: 0...1_000_000) { config.limits.maxConnectionRatePerIP = v }
            if let v = try limits.int("auth_failures_before_delay", in: 1...1000) { config.limits.authFailuresBeforeDelay = v }
            if let v = try limits.int("auth_failures_before_block", in: 1...1000) { config.limits.authFailuresBeforeBlock = v }
            if let v = try limits.duration("auth_block_time") { config.limits.authBlockTime = v }
            try limits.finish()
        }
        if var auth = try reader.table("auth") {
            if let v = try auth.bool("cram_md5") { config.auth.cramMD5 = v }
            try auth.finish()
        }
        if var pop3 = try reader.table("pop3") {
            if let v = try pop3.bool("allow_plaintext") { config.pop3.allowPlaintext = v }
            try pop3.finish()
        }
        if var engagement = try reader.table("engagement") {
            if let v = try engagement.bool("open_tracking") { config.engagement.openTracking = v }
            if let v = try engagement.bool("click_tracking") { config.engagement.clickTracking = v }
            if let v = try engagement.string("abuse_address") {
                guard v.isEmpty || (try? MailboxAddress(parsing: v)) != nil else {
                    throw ConfigurationError(key: "engagement.abuse_address", "not an address")
                }
                config.engagement.abuseAddress = v.lowercased()
            }
            if let v = try engagement.string("unsubscribe_address") {
                guard v.isEmpty || (try? MailboxAddress(parsing: v)) != nil else {
                    throw ConfigurationError(key: "engagement.unsubscribe_address", "not an address")
                }
                config.engagement.unsubscribeAddress = v.lowercased()
            }
            if let list = try engagement.strings("machine_open_networks") {
                config.engagement.machineOpenNetworks = try list.map { (text: String) throws(ConfigurationError) -> NetworkRange in
                    guard let range = NetworkRange(text) else {
                        throw ConfigurationError(key: "engagement.machine_open_networks", "\"\(text)\" is not a CIDR network")
                    }
                    return range
                }
            }
            try engagement.finish()
        }
        if var imap = try reader.table("imap") {
            if let v = try imap.bool("allow_plaintext") { config.imap.allowPlaintext = v }
            try imap.finish()
        }
        if var mailAuth = try reader.table("mail_auth") {
            if let v = try mailAuth.bool("sign") { config.mailAuth.sign = v }
            if let v = try mailAuth.bool("check_inbound") { config.mailAuth.checkInbound = v }
            if let v = try mailAuth.bool("dmarc_reject") { config.mailAuth.dmarcReject = v }
            if let v = try mailAuth.strings("dmarc_relaxed_domains") { config.mailAuth.dmarcRelaxedDomains = v.map { $0.lowercased() } }
            if let v = try mailAuth.string("public_suffix_list") { config.mailAuth.publicSuffixList = v }
            try mailAuth.finish()
        }
        if var plans = try reader.table("plans") {
            for name in plans.remainingKeys {
                guard var plan = try plans.table(name) else { continue }
                var value = config.plans[name] ?? Plan()
                if let v = try plan.int("daily_messages", in: 0...Int.max) { value.dailyMessages = v }
                if let v = try plan.int("hourly_messages", in: 0...Int.max) { value.hourlyMessages = v }
                if let v = try plan.int("max_recipients_per_message", in: 1...Int.max) { value.maxRecipientsPerMessage = v }
                if let v = try plan.int("max_message_size", in: 1...Int.max) { value.maxMessageSize = v }
                if let v = try plan.int("messages_per_minute", in: 0...Int.max) { value.messagesPerMinute = v }
                try plan.finish()
                config.plans[name] = value
            }
            try plans.finish()
        }
        try reader.finish()
        return config
    }
}

/// Reads keys out of one TOML table, remembering which were used so that any key left over is
/// reported by name: a misspelt key must never be silently ignored.
struct TableReader {
    let table: TOMLTable
    let path: String
    private var used: Set<String> = []

    init(table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    var remainingKeys: [String] { table.keys.filter { !used.contains($0) }.sorted() }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func value(_ key: String) -> (any TOMLValueConvertible)? {
        used.insert(key)
        return table[key]
    }

    mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string else { throw ConfigurationError(key: name(key), "expected a string") }
        return s
    }

    mutating func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw ConfigurationError(key: name(key), "expected true or false") }
        return b
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let v = value(key) else { return nil }
        guard v.type == .int, let i = v.int else { throw ConfigurationError(key: name(key), "expected an integer") }
        guard range.contains(i) else {
            throw ConfigurationError(key: name(key), "\(i) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    mutating func duration(_ key: String) throws(ConfigurationError) -> Int? {
        guard let text = try string(key) else { return nil }
        return try DurationText.seconds(text, key: name(key))
    }

    mutating func strings(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard let array = v.array else { throw ConfigurationError(key: name(key), "expected an array of strings") }
        var result: [String] = []
        for item in array {
            guard let s = item.string else { throw ConfigurationError(key: name(key), "expected an array of strings") }
            result.append(s)
        }
        return result
    }

    mutating func addresses(_ key: String) throws(ConfigurationError) -> [ListenAddress]? {
        guard let list = try strings(key) else { return nil }
        return try list.map { (text: String) throws(ConfigurationError) -> ListenAddress in
            guard let address = ListenAddress(parsing: text) else {
                throw ConfigurationError(key: name(key), "\"\(text)\" is not host:port")
            }
            return address
        }
    }

    mutating func table(_ key: String) throws(ConfigurationError) -> TableReader? {
        guard let v = value(key) else { return nil }
        guard let t = v.table else { throw ConfigurationError(key: name(key), "expected a table") }
        return TableReader(table: t, path: name(key))
    }

    func finish() throws(ConfigurationError) {
        if let unknown = remainingKeys.first {
            throw ConfigurationError(key: name(unknown), "unknown key")
        }
    }
}

/// Durations written as `30s`, `5m`, `2h`, `5d` (or bare seconds).
public enum DurationText {
    public static func seconds(_ text: String, key: String) throws(ConfigurationError) -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        var digits = Substring(text)
        var multiplier = 1
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int(digits), value > 0, value <= Int.max / multiplier else {
            throw ConfigurationError(key: key, "\"\(text)\" is not a duration like 30s, 5m, 2h or 5d")
        }
        return value * multiplier
    }
}
