import Crypto
import Dispatch
import Engagement
import Foundation
import Logging
import MailAuth
import IMAPServer
import POP3Server
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import NIOPosix
import NIOSSL
import SendGridProtocol
import Dashboard
import Delivery
import ProtocolEdge
import ServiceLifecycle
import SMTPClient
import SMTPProtocol
import SMTPServer
import WebAPI

/// `tern serve`: every configured listener until SIGINT or SIGTERM, then a graceful shutdown.
public enum TernRuntime {
    public static func serve(configuration: TernConfiguration, logger: Logger) async throws {
        // The driver's own messages: warnings and errors only, marked as the store's.
        var storeLogger = logger
        storeLogger[metadataKey: "service"] = "store"
        storeLogger.logLevel = max(logger.logLevel, .warning)
        // With PostgreSQL the pool runs for as long as the server does (and the schema is
        // brought up to date first); with SQLite `open` only reads the server secret.
        try await TernEnvironment(configuration: configuration, logger: storeLogger).open { environment in
            try await serve(environment: environment, logger: logger)
        }
    }

    static func serve(environment: TernEnvironment, logger: Logger) async throws {
        let configuration = environment.configuration
        // Before any counter exists, so every one of them reaches the Prometheus registry.
        let metrics = MetricsExport(store: environment.store)
        let tlsContext = try TLSMaterial.serverContext(configuration: configuration)
        var checkpointer: WALCheckpointer? = nil
        if let sqlite = environment.sqlite {
            do {
                checkpointer = try sqlite.startBackgroundCheckpoints()
            } catch {
                throw ConfigurationError(key: "data_dir", "cannot open the database for checkpoints: \(error)")
            }
        }
        let probe = FreeSpaceProbe(path: configuration.dataDirectory, minimumFreeBytes: configuration.limits.minFreeDisk)
        let plans = configuration.plans.mapValues {
            PlanLimits(
                dailyMessages: $0.dailyMessages, hourlyMessages: $0.hourlyMessages, messagesPerMinute: $0.messagesPerMinute,
                maxRecipientsPerMessage: $0.maxRecipientsPerMessage, maxMessageSize: $0.maxMessageSize)
        }
        // Configuration that can refuse to start is read before any thread or socket exists.
        let authentication = try messageAuthentication(configuration: configuration, store: environment.store, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let scheduler = try makeScheduler(configuration: configuration, store: environment.store, group: group, logger: logger)
        // A commit that left recipients queued wakes the scheduler, so delivery starts at once;
        // MX mail to hosted mailboxes was delivered in the commit itself, and is logged here as
        // the scheduler logs its deliveries.
        var deliveryLogger = logger
        deliveryLogger[metadataKey: "service"] = "delivery"
        let commitLogger = deliveryLogger
        environment.store.observeCommits { report in
            for delivery in report.delivered {
                commitLogger.info("delivered id=\(delivery.messageID) to=<\(delivery.recipient)> relay=local reply=\"\(delivery.reply)\"")
            }
            DeliveryMetrics.deliveredAtAccept(report.delivered.count)
            if report.dropped > 0 { ServiceMetrics.events("dropped", count: report.dropped) }
            if report.leftQueued { scheduler.wake() }
        }
        // Mail another node committed for delivery wakes this node's scheduler too.
        environment.store.observeQueue { scheduler.wake() }
        let queue: any QueueRepository = environment.store
        var policy = ReceivingPolicy(
            hostname: configuration.hostname, directory: environment.store, queue: queue, plans: plans,
            hasFreeSpace: { probe.hasRoom() })
        policy.authentication = authentication
        policy.mailboxes = environment.store
        policy.intake.suppressions = environment.store
        policy.intake.sandboxes = environment.store
        // Open and click tracking (issue 15): links point at `[http] public_url`, tokens are
        // signed with a key kept in the database (every node shares it).
        let engagement = try await engagementTracking(configuration: configuration, store: environment.store)
        policy.intake.tracking = engagement
        let trackingPreferences = TrackingPreferences(store: environment.store, serverDefaults: engagement.defaults)
        policy.intake.trackingPreferences = trackingPreferences
        var recorder = EngagementRecorder(
            store: environment.store, tracking: engagement, machine: MachineEngagement(proxyNetworks: configuration.engagement.machineOpenNetworks))
        recorder.suppressions = environment.store
        if !configuration.engagement.abuseAddress.isEmpty {
            policy.intake.receivedMailHooks.append(
                FeedbackLoop(address: configuration.engagement.abuseAddress, store: environment.store, suppressions: environment.store))
        }
        if !configuration.engagement.unsubscribeAddress.isEmpty {
            policy.intake.receivedMailHooks.append(UnsubscribeByMail(address: configuration.engagement.unsubscribeAddress, recorder: recorder))
        }
        let limits = configuration.limits
        // One set of abuse limits for every protocol: failed logins over POP3 count against SMTP
        // AUTH from the same client, and connection caps cover all listeners together.
        let abuseLimits = AbuseLimits(
            settings: AbuseLimits.Settings(
                maximumConnections: limits.maxConnections, maximumConnectionsPerClient: limits.maxConnectionsPerIP,
                maximumConnectionRatePerMinute: limits.maxConnectionRatePerIP, authFailuresBeforeDelay: limits.authFailuresBeforeDelay,
                authFailuresBeforeBlock: limits.authFailuresBeforeBlock, authBlockTime: .seconds(limits.authBlockTime)))
        let authenticator = AccountAuthenticator(directory: environment.store, decoySecret: environment.serverSecret)
        let listener = ProtocolListener(group: group, limits: abuseLimits, tlsContext: tlsContext, logger: logger)
        var smtpSettings = SMTPServiceSettings(
            hostname: configuration.hostname, maximumMessageSize: limits.maxMessageSize, maximumRecipients: limits.maxRecipients,
            commandTimeout: .seconds(Int64(limits.commandTimeout)), connectionTimeout: .seconds(Int64(limits.connectionTimeout)),
            trustedNetworks: configuration.relay.trustedNetworks)
        smtpSettings.trustedAccount = configuration.relay.trustedAccount.isEmpty ? nil : configuration.relay.trustedAccount
        // CRAM-MD5 only when the operator accepted storing a password-equivalent secret.
        smtpSettings.authMechanisms = ["PLAIN", "LOGIN", "SCRAM-SHA-256"] + (configuration.auth.cramMD5 ? ["CRAM-MD5"] : [])
        let smtp = SMTPService(settings: smtpSettings, policy: policy, authenticator: authenticator, listener: listener)
        // POP3 (RFC 1939) on pop3 (STLS) and pop3s (implicit TLS), with the same account checks
        // and abuse limits as SMTP AUTH.
        let pop3 = POP3Service(
            settings: POP3ServiceSettings(
                hostname: configuration.hostname, allowPlaintext: configuration.pop3.allowPlaintext, mechanisms: smtpSettings.authMechanisms),
            authenticator: authenticator, mailboxes: environment.store, listener: listener, locks: environment.store.makeMaildropLocks())
        // IMAP (RFC 9051) on imap (STARTTLS) and imaps, over the same mailboxes and account checks.
        let imap = IMAPService(
            settings: IMAPSessionSettings(
                hostname: configuration.hostname, allowPlaintext: configuration.imap.allowPlaintext, mechanisms: smtpSettings.authMechanisms,
                maximumMessageSize: limits.maxMessageSize),
            authenticator: authenticator, mailboxes: environment.store, listener: listener)

        let listen = configuration.listen
        enum Service {
            case smtp(ListenerKind)
            case pop3
            case imap
        }
        var bindings: [(ListenerEndpoint, Service)] = []
        bindings += listen.smtp.map { (ListenerEndpoint(host: $0.host, port: $0.port, configurationKey: "listen.smtp"), .smtp(.mx)) }
        bindings += listen.submission.map {
            (ListenerEndpoint(host: $0.host, port: $0.port, configurationKey: "listen.submission"), .smtp(.submission))
        }
        bindings += listen.submissions.map {
            (ListenerEndpoint(host: $0.host, port: $0.port, configurationKey: "listen.submissions", implicitTLS: true), .smtp(.submissions))
        }
        bindings += listen.pop3.map { (ListenerEndpoint(host: $0.host, port: $0.port, configurationKey: "listen.pop3"), .pop3) }
        bindings += listen.pop3s.map { (ListenerEndpoint(host: $0.host, port: $0.port, configurationKey: "listen.pop3s", implicitTLS: true), .pop3) }
        bindings += listen.imap.map { (ListenerEndpoint(host: $0.host, port: $0.port, configurationKey: "listen.imap"), .imap) }
        bindings += listen.imaps.map { (ListenerEndpoint(host: $0.host, port: $0.port, configurationKey: "listen.imaps", implicitTLS: true), .imap) }
        var channels: [any Channel] = []
        for (address, kind) in bindings {
            do {
                switch kind {
                case .smtp(let kind): channels.append(try await smtp.bind(address, kind: kind))
                case .pop3: channels.append(try await pop3.bind(address))
                case .imap: channels.append(try await imap.bind(address))
                }
                logger.info("listening", metadata: ["service": "\(address.configurationKey)", "address": "\(address.host):\(address.port)"])
            } catch {
                for channel in channels { try? await channel.close() }
                try? await group.shutdownGracefully()
                throw ConfigurationError(key: address.configurationKey, "\(error)")
            }
        }
        // The HTTP API (SendGrid's v3 format) over the same intake, keys and abuse limits.
        let resolver = TernDNS.resolver(configuration: configuration)
        let webhookTransport = WebhookHTTPTransport(
            resolver: resolver, allowPrivate: configuration.http.allowPrivateWebhooks, eventLoopGroup: group)
        var api = WebAPI(
            settings: WebAPISettings(
                hostname: configuration.hostname, allowPrivateWebhooks: configuration.http.allowPrivateWebhooks),
            intake: policy.intake, authenticator: authenticator, limits: abuseLimits, administration: environment.administration,
            directory: environment.store, activity: environment.store, webhooks: environment.store, webhookTransport: webhookTransport,
            resolver: resolver, suppressions: environment.store, sandboxes: environment.store)
        if configuration.http.metrics { api.metrics = { await metrics.render() } }
        api.engagement = recorder
        api.templates = TemplateCatalog(store: environment.store)
        api.trackingPreferences = trackingPreferences
        if configuration.http.dashboard {
            let store = environment.store
            let sessions = WebSessions(
                store: store, directory: store, authenticator: authenticator, limits: abuseLimits, clock: { MessageDate.nowUnixSeconds() })
            let dashboard = try Dashboard(
                sessions: sessions, administration: environment.administration, activity: store, directory: store, plans: plans,
                clock: { MessageDate.nowUnixSeconds() }, content: { id in (try? await store.storedContent(id: id)) ?? nil },
                queueDepth: { (try? await store.activeRecipientCounts()) ?? [:] },
                queue: QueueControl(store: store, clock: { MessageDate.nowUnixSeconds() }, wake: { scheduler.wake() }),
                resolver: TernDNS.resolver(configuration: configuration), webhooks: api.eventWebhooks,
                health: { [probe = ServerHealthProbe(configuration: configuration, store: store, startedAt: MessageDate.nowUnixSeconds())] in
                    await probe.read()
                })
            api.moreRoutes = { router in dashboard.register(on: router) }
        }
        var webhookLogger = logger
        webhookLogger[metadataKey: "service"] = "webhooks"
        let dispatcherLogger = webhookLogger
        let dispatcher = WebhookDispatcher(
            store: environment.store, transport: webhookTransport,
            settings: WebhookDispatcher.Settings(batchDelay: configuration.http.webhookBatchDelay, retryDelay: configuration.http.webhookRetryDelay),
            log: { dispatcherLogger.warning("\($0)") })
        var httpServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let httpsTLS = listen.https.isEmpty ? nil : try TLSMaterial.serverConfiguration(configuration: configuration)
        for (address, key, tls) in listen.http.map({ ($0, "listen.http", TLSConfiguration?.none) }) + listen.https.map({ ($0, "listen.https", httpsTLS) }) {
            var named = logger
            named[metadataKey: "service"] = "\(key)"
            let httpLogger = named
            let service = try api.service(host: address.host, port: address.port, tls: tls, logger: httpLogger) { port in
                httpLogger.info("listening", metadata: ["address": "\(address.host):\(port)"])
            }
            httpServices.append(.init(service: HTTPListenerService(base: service, configurationKey: key, address: address)))
        }
        // What this node had leased when it last stopped is due again now (on the embedded
        // store every lease is this node's; on PostgreSQL only those under its name).
        _ = try? await environment.store.releaseLeases(at: MessageDate.nowUnixSeconds())
        // One group of services; SIGTERM/SIGINT shut them down in reverse order: listeners
        // first (transactions in flight finish), then delivery, then the last checkpoint.
        let grace = Duration.seconds(configuration.limits.shutdownGrace)
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: (checkpointer.map { [.init(service: CheckpointService(checkpointer: $0))] } ?? []) + [
                    .init(service: DeliveryService(scheduler: scheduler, grace: grace)),
                    .init(service: WebhookService(dispatcher: dispatcher)),
                    .init(service: ListenerService(channels: channels, smtp: smtp, grace: grace, logger: logger)),
                ] + httpServices,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        for warning in environment.tightened { logger.warning("\(warning)") }
        let storeName = environment.postgres.map { "postgres \($0.url.redacted) node \($0.node)" } ?? "sqlite"
        logger.info("tern ready", metadata: ["hostname": "\(configuration.hostname)", "data_dir": "\(configuration.dataDirectory)", "store": "\(storeName)"])
        do {
            try await services.run()
        } catch {
            logger.error("a service failed; stopped the others", metadata: ["error": "\(error)"])
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }

    /// DKIM signing and inbound checks as `[mail_auth]` asks; nil when both are off.
    /// `[engagement]` with the tracking key from the store. Links go to `[http] public_url`,
    /// or to the first http listener under the server's hostname.
    static func engagementTracking(configuration: TernConfiguration, store: any ServerStore) async throws -> EngagementTracking {
        let key: [UInt8]
        do {
            key = try await store.trackingKey()
        } catch {
            throw ConfigurationError(key: "data_dir", "cannot read the tracking key: \(error)")
        }
        var publicURL = configuration.http.publicURL
        if publicURL.isEmpty, let first = configuration.listen.http.first {
            publicURL = "http://\(configuration.hostname):\(first.port)"
        }
        var tracking = EngagementTracking(
            publicURL: publicURL, key: SymmetricKey(data: key),
            defaults: TrackingSettings(openTracking: configuration.engagement.openTracking, clickTracking: configuration.engagement.clickTracking))
        tracking.unsubscribeMailbox = configuration.engagement.unsubscribeAddress.isEmpty ? nil : configuration.engagement.unsubscribeAddress
        return tracking
    }

    static func messageAuthentication(configuration: TernConfiguration, store: any ServerStore, logger: Logger) throws -> MessageAuthentication? {
        let settings = configuration.mailAuth
        guard settings.sign || settings.checkInbound else { return nil }
        let resolver = TernDNS.resolver(configuration: configuration)
        // DMARC's organizational domain (RFC 7489 §3.2) needs the Public Suffix List; the old
        // fallback of "the last two labels" is wrong for example.co.uk and would align
        // unrelated senders, so with inbound checks on and no list Tern does not start.
        var suffixes = PublicSuffixList(text: "")
        if settings.checkInbound {
            do {
                suffixes = try PublicSuffixList(contentsOf: settings.publicSuffixList)
            } catch {
                throw ConfigurationError(
                    key: "mail_auth.public_suffix_list",
                    "cannot read the Public Suffix List at \(settings.publicSuffixList) (install Debian's publicsuffix package, point public_suffix_list at a copy, or set check_inbound = false)"
                )
            }
            guard suffixes.ruleCount > 0 else {
                throw ConfigurationError(
                    key: "mail_auth.public_suffix_list",
                    "\(settings.publicSuffixList) holds no rules; it is not a Public Suffix List (Debian's publicsuffix package installs one)")
            }
        }
        let hostname = configuration.hostname
        var authentication = MessageAuthentication(
            spf: SPFVerifier(resolver: resolver, receivingHost: hostname), dkim: DKIMVerifier(resolver: resolver),
            dmarc: DMARCVerifier(resolver: resolver, suffixes: suffixes), authservID: hostname, rejectOnDMARC: settings.dmarcReject,
            relaxedDomains: Set(settings.dmarcRelaxedDomains), signingKeys: settings.sign ? DKIMKeyCache(store: store) : nil)
        if !settings.checkInbound { authentication.checkInbound = false }
        return authentication
    }

    static func makeScheduler(configuration: TernConfiguration, store: any ServerStore, group: any EventLoopGroup, logger: Logger) throws
        -> DeliveryScheduler
    {
        let delivery = configuration.delivery
        var routes: [String: StaticRoute] = [:]
        for (domain, address) in delivery.routes { routes[domain.lowercased()] = StaticRoute(host: address.host, port: address.port) }
        let router = DeliveryRouter(
            resolver: TernDNS.resolver(configuration: configuration), routes: routes, port: delivery.smtpPort,
            isLocal: { domain in
                // When the directory cannot be read, keep the mail rather than risk sending a
                // hosted domain's mail out to its MX (which may be this server).
                (try? await store.isHostedDomain(domain)) ?? true
            }, allowPrivateDestinations: delivery.allowPrivateDestinations)
        let connector: SMTPConnector
        do {
            connector = try SMTPConnector(
                group: group,
                settings: SMTPClientSettings(heloName: configuration.hostname, verifyCertificates: delivery.verifyCertificates))
        } catch {
            throw ConfigurationError(key: "delivery", "cannot set up outbound TLS: \(error)")
        }
        var deliveryLogger = logger
        deliveryLogger[metadataKey: "service"] = "delivery"
        var settings = DeliverySettings(
            hostname: configuration.hostname, smtpPort: delivery.smtpPort, retrySchedule: delivery.retrySchedule,
            maxQueueAge: delivery.maxQueueAge, routes: routes, maxConnectionsPerDestination: delivery.maxConnectionsPerDestination,
            connectionIdleTime: Double(delivery.connectionIdleTime), leaseSeconds: delivery.leaseTime)
        settings.postmaster = delivery.postmaster
        return DeliveryScheduler(store: store, router: router, connector: connector, settings: settings, logger: deliveryLogger, mailboxes: store)
    }
}
