import MailCore
import Testing

@testable import TernServer

@Suite struct ConfigurationTests {
    @Test func emptyFileGivesDefaults() throws {
        let config = try TernConfiguration.parse("")
        #expect(config.listen.smtp == [ListenAddress(host: "127.0.0.1", port: 2525)])
        #expect(config.listen.submission == [ListenAddress(host: "127.0.0.1", port: 5870)])
        #expect(config.listen.submissions == [ListenAddress(host: "127.0.0.1", port: 4650)])
        #expect(config.limits.maxMessageSize == 26_214_400)
        #expect(config.limits.maxRecipients == 100)
        #expect(config.plans["free"]?.dailyMessages == 100)
        #expect(config.delivery.retrySchedule == [60, 300, 900, 1800, 3600, 7200, 14400])
        #expect(config.delivery.maxQueueAge == 5 * 86400)
        #expect(config.dataDirectory == "tern-data")
    }

    @Test func fullSchemaParses() throws {
        let config = try TernConfiguration.parse(
            """
            hostname = "mail.example.test"
            data_dir = "/var/lib/tern"
            [listen]
            smtp = ["0.0.0.0:25", "[::1]:25"]
            submission = []
            submissions = ["127.0.0.1:465"]
            imap = []
            imaps = []
            pop3 = []
            pop3s = []
            http = ["127.0.0.1:8080"]
            [tls]
            certificate = "/etc/cert.pem"
            private_key = "/etc/key.pem"
            [relay]
            trusted_networks = ["192.0.2.0/24", "::1/128"]
            [dns]
            nameservers = ["127.0.0.1:5353"]
            [delivery]
            smtp_port = 2526
            retry_schedule = ["30s", "2m"]
            max_queue_age = "2d"
            max_connections_per_destination = 4
            verify_certificates = true
            connection_idle_time = "5s"
            [delivery.routes]
            "example.net" = "127.0.0.2:2526"
            [limits]
            max_message_size = 1048576
            max_recipients = 5
            max_connections_per_ip = 7
            command_timeout = "1m"
            [auth]
            cram_md5 = true
            [plans.free]
            daily_messages = 10
            [plans.pro]
            daily_messages = 100000
            messages_per_minute = 600
            """)
        #expect(config.hostname == "mail.example.test")
        #expect(config.listen.smtp == [ListenAddress(host: "0.0.0.0", port: 25), ListenAddress(host: "::1", port: 25)])
        #expect(config.listen.submission.isEmpty)
        #expect(config.relay.trustedNetworks.count == 2)
        #expect(config.dns.nameservers == [ListenAddress(host: "127.0.0.1", port: 5353)])
        #expect(config.delivery.smtpPort == 2526)
        #expect(config.delivery.retrySchedule == [30, 120])
        #expect(config.delivery.maxQueueAge == 172_800)
        #expect(config.delivery.maxConnectionsPerDestination == 4)
        #expect(config.delivery.verifyCertificates)
        #expect(config.delivery.connectionIdleTime == 5)
        #expect(config.delivery.routes["example.net"] == ListenAddress(host: "127.0.0.2", port: 2526))
        #expect(config.limits.maxMessageSize == 1_048_576)
        #expect(config.limits.maxConnectionsPerIP == 7)
        #expect(config.limits.commandTimeout == 60)
        #expect(config.auth.cramMD5)
        #expect(config.plans["free"]?.dailyMessages == 10)
        #expect(config.plans["pro"]?.messagesPerMinute == 600)
    }

    @Test(arguments: [
        ("bogus = 1", "bogus"),
        ("[listen]\nsmtpp = []", "listen.smtpp"),
        ("[limits]\nmax_message_size = \"big\"", "limits.max_message_size"),
        ("[limits]\nmax_recipients = 0", "limits.max_recipients"),
        ("[listen]\nsmtp = [\"127.0.0.1\"]", "listen.smtp"),
        ("[listen]\nsmtp = [\"127.0.0.1:70000\"]", "listen.smtp"),
        ("[listen]\nsmtp = \"127.0.0.1:25\"", "listen.smtp"),
        ("[relay]\ntrusted_networks = [\"10.0.0.0/99\"]", "relay.trusted_networks"),
        ("[engagement]\nmachine_open_networks = [\"17.0.0.0/40\"]", "engagement.machine_open_networks"),
        ("[engagement]\nopen_tracking = 1", "engagement.open_tracking"),
        ("[delivery]\nretry_schedule = [\"soon\"]", "delivery.retry_schedule"),
        ("[delivery]\nmax_queue_age = \"-1d\"", "delivery.max_queue_age"),
        ("[delivery.routes]\n\"example.net\" = \"nowhere\"", "delivery.routes.example.net"),
        ("[plans.free]\ndaily = 5", "plans.free.daily"),
        ("[tls]\ncertificate = \"/x.pem\"", "tls"),
        ("[auth]\ncram_md5 = \"yes\"", "auth.cram_md5"),
        ("hostname = \"not a host\"", "hostname"),
        ("listen = 5", "listen"),
        ("[store]\nbackend = \"mysql\"", "store.backend"),
        ("[store]\nbackend = \"postgres\"", "store.postgres.url"),
        ("[store.postgres]\nurl = \"postgres://h/d\"", "store.postgres.url"),
        ("[store.postgres]\npool_size = 0", "store.postgres.pool_size"),
        ("[store.postgres]\nhost = \"db\"", "store.postgres.host"),
        ("[store.postgres]\nnode = \"two words\"", "store.postgres.node"),
        ("[store.postgres]\nnode = \"\"", "store.postgres.node"),
        ("[delivery]\nlease_time = \"1s\"", "delivery.lease_time"),
    ])
    func errorsNameTheKey(toml: String, key: String) {
        #expect(throws: ConfigurationError.self) { try TernConfiguration.parse(toml) }
        do {
            _ = try TernConfiguration.parse(toml)
        } catch {
            #expect(error.key == key, "\(error)")
        }
    }

    @Test func storeSettings() throws {
        #expect(try TernConfiguration.parse("").store.backend == .sqlite)
        let config = try TernConfiguration.parse(
            "[store]\nbackend = \"postgres\"\n[store.postgres]\nurl = \"postgres://tern:pw@db.example.test/mail?sslmode=verify-full\"\npool_size = 8\n")
        #expect(config.store.backend == .postgres && config.store.poolSize == 8)
        #expect(config.store.postgresURL?.host == "db.example.test" && config.store.postgresURL?.tlsMode == .verifyFull)
        #expect(config.store.node.isEmpty && config.delivery.leaseTime == 600)
        let named = try TernConfiguration.parse(
            "[delivery]\nlease_time = \"2m\"\n[store]\nbackend = \"postgres\"\n[store.postgres]\nurl = \"postgres://u@db/mail\"\nnode = \"mx-1\"\n")
        #expect(named.store.node == "mx-1" && named.delivery.leaseTime == 120)
    }

    @Test func engagementDefaultsAndSettings() throws {
        let defaults = try TernConfiguration.parse("")
        #expect(!defaults.engagement.openTracking && !defaults.engagement.clickTracking)
        #expect(defaults.engagement.machineOpenNetworks.map(\.description) == ["17.0.0.0/8"])
        let config = try TernConfiguration.parse("[engagement]\nopen_tracking = true\nclick_tracking = true\nmachine_open_networks = [\"192.0.2.0/24\"]")
        #expect(config.engagement.openTracking && config.engagement.clickTracking)
        #expect(config.engagement.machineOpenNetworks.first?.contains("192.0.2.9") == true)
    }

    @Test func syntaxErrorSaysWhere() {
        do {
            _ = try TernConfiguration.parse("a = \n[")
            Issue.record("parsed")
        } catch {
            #expect(error.message.contains("line"))
        }
    }

    @Test func durations() throws {
        #expect(try DurationText.seconds("45", key: "k") == 45)
        #expect(try DurationText.seconds("3h", key: "k") == 10800)
        #expect(throws: ConfigurationError.self) { try DurationText.seconds("h", key: "k") }
        #expect(throws: ConfigurationError.self) { try DurationText.seconds("0s", key: "k") }
    }

    @Test func listenAddresses() {
        #expect(ListenAddress(parsing: "[::1]:25") == ListenAddress(host: "::1", port: 25))
        #expect(ListenAddress(parsing: "::1:25") == nil)
        #expect(ListenAddress(parsing: ":25") == nil)
        #expect(ListenAddress(parsing: "host:0") == nil)
        #expect(ListenAddress(host: "::1", port: 25).description == "[::1]:25")
    }

    @Test func selfSignedCertificateIsValidPEM() throws {
        let (certificate, key) = try TLSMaterial.makeSelfSigned(hostname: "mx.example.test")
        #expect(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(key.contains("PRIVATE KEY"))
    }
}
