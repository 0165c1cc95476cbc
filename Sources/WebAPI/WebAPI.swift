import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import DNSClient
import MailService
import MailStore
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Settings of the HTTP listeners.
public struct WebAPISettings: Sendable {
    public var hostname: String
    /// An idle keep-alive connection is closed after this long.
    public var idleTimeout: TimeAmount
    /// Webhook URLs may resolve to loopback and private addresses (tests, private networks).
    public var allowPrivateWebhooks: Bool

    public init(hostname: String, idleTimeout: TimeAmount = .seconds(60), allowPrivateWebhooks: Bool = false) {
        self.allowPrivateWebhooks = allowPrivateWebhooks
        self.hostname = hostname
        self.idleTimeout = idleTimeout
    }
}

/// The HTTP API: SendGrid's v3 endpoints over the application core. A thin adapter: requests
/// are decoded and validated by `SendGridProtocol`, and every decision about mail is
/// `MessageIntake`'s, exactly as for SMTP.
public struct WebAPI: Sendable {
    let settings: WebAPISettings
    let intake: MessageIntake
    let authenticator: AccountAuthenticator
    let limits: AbuseLimits
    let administration: Administration
    let directory: any DirectoryRepository
    let activity: any ActivityRepository
    /// Event webhook settings, tests and logs; the dashboard uses the same.
    public let eventWebhooks: EventWebhooks
    let suppressions: any SuppressionRepository
    let sandboxes: any SandboxRepository
    /// The Prometheus text of `/metrics`; nil serves no metrics.
    public var metrics: (@Sendable () async -> String)?
    /// Opens, clicks and unsubscribes of tracked mail (`/t/o`, `/t/c`, `/u`); nil serves none.
    public var engagement: EngagementRecorder?
    /// Dynamic templates (`/v3/templates`, `template_id` in sends); nil serves none.
    public var templates: TemplateCatalog?
    /// Accounts' tracking defaults (`/v3/tracking_settings`); nil serves none.
    public var trackingPreferences: TrackingPreferences?
    /// More routes on the same listeners (the web dashboard registers its pages here).
    public var moreRoutes: (@Sendable (Router<APIRequestContext>) -> Void)?

    public init(
        settings: WebAPISettings, intake: MessageIntake, authenticator: AccountAuthenticator, limits: AbuseLimits,
        administration: Administration, directory: any DirectoryRepository, activity: any ActivityRepository,
        webhooks: any WebhookRepository, webhookTransport: any WebhookTransport, resolver: any DNSResolver,
        suppressions: any SuppressionRepository, sandboxes: any SandboxRepository
    ) {
        self.sandboxes = sandboxes
        self.suppressions = suppressions
        self.activity = activity
        eventWebhooks = EventWebhooks(
            store: webhooks, transport: webhookTransport, resolver: resolver, allowPrivate: settings.allowPrivateWebhooks, clock: intake.clock)
        self.settings = settings
        self.intake = intake
        self.authenticator = authenticator
        self.limits = limits
        self.administration = administration
        self.directory = directory
    }

    /// Every route. `overTLS` marks requests of the https listener (the trace field says HTTPS).
    public func router(overTLS: Bool = false, logger: Logger) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: APIErrorMiddleware(overTLS: overTLS, logger: logger))
        router.get("/v3/openapi.json") { _, _ in OpenAPIDocument.response() }
        if let metrics {
            // Prometheus text exposition format 0.0.4; no key: listen on loopback or a private
            // network, or put a proxy in front.
            router.get("/metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: await metrics())))
            }
        }
        if let engagement {
            TrackingEndpoint(recorder: engagement).register(on: router)
            UnsubscribeEndpoint(recorder: engagement).register(on: router)
        }
        let v3 = router.group("v3").add(middleware: APIKeyAuthentication(authenticator: authenticator, limits: limits))
        var endpoint = MailSendEndpoint(intake: intake, hostname: settings.hostname)
        endpoint.templates = templates
        let send = endpoint
        if let templates { TemplatesEndpoint(catalog: templates).register(on: v3) }
        if let trackingPreferences { TrackingSettingsEndpoint(preferences: trackingPreferences).register(on: v3) }
        v3.post("mail/send") { request, context in try await send.send(request, context) }
        APIKeysEndpoint(administration: administration, directory: directory).register(on: v3)
        ActivityEndpoint(activity: activity).register(on: v3)
        StatsEndpoint(activity: activity, clock: intake.clock).register(on: v3)
        WebhookEndpoint(webhooks: eventWebhooks).register(on: v3)
        SuppressionEndpoint(store: suppressions, clock: intake.clock).register(on: v3)
        SandboxEndpoint(store: sandboxes).register(on: v3)
        moreRoutes?(router)
        return router
    }

    /// One listener as a service of the server's group. `onListening` gets the bound port.
    public func service(
        host: String, port: Int, tls: TLSConfiguration?, logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) throws -> some Service {
        let limits = self.limits
        let listener = tls == nil ? "listen.http" : "listen.https"
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionLimitHandler(limits: limits, listener: listener)], idleTimeout: settings.idleTimeout))
        let server = try tls.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: $0) } ?? http1
        return Application(
            router: router(overTLS: tls != nil, logger: logger), server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }
}

/// Outermost middleware: every failure leaves as SendGrid's error body (the router's own 404
/// and 405 included), an unexpected error as a logged 500 that shows nothing of it, and
/// requests of the https listener are marked.
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let overTLS: Bool
    let logger: Logger

    func handle(_ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        context.overTLS = overTLS
        do {
            let response = try await next(request, context)
            ServiceMetrics.apiRequest(endpoint: context.endpointPath ?? "unmatched", status: Int(response.status.code))
            return response
        } catch {
            let failure = translate(error, request)
            ServiceMetrics.apiRequest(endpoint: context.endpointPath ?? "unmatched", status: Int(failure.status.code))
            throw failure
        }
    }

    /// Every failure as SendGrid's error body.
    func translate(_ error: any Error, _ request: Request) -> APIFailure {
        do {
            throw error
        } catch let failure as APIFailure {
            return failure
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                // A documented path with another method is a 405 naming the methods it has
                // (RFC 9110 §15.5.6), not a missing resource.
                guard let allowed = OpenAPIDocument.allowedMethods(path: request.uri.path) else { return APIFailure.notFound }
                var failure = APIFailure(.methodNotAllowed, "method not allowed")
                failure.headers[.allow] = allowed.joined(separator: ", ")
                return failure
            case .methodNotAllowed: return APIFailure(.methodNotAllowed, "method not allowed")
            default: return APIFailure(error.status, error.body ?? error.status.reasonPhrase)
            }
        } catch let error as any HTTPResponseError {
            return APIFailure(error.status, error.status.reasonPhrase)
        } catch {
            logger.error("HTTP API request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return APIFailure(.internalServerError, "internal error")
        }
    }
}
