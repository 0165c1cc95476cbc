import DNSClient
import Foundation
import HTTPTypes
import Hummingbird
import MailCore
import MailService
import MailStore
import Mustache
import NIOCore
import SendGridProtocol
import WebAPI

/// The web dashboard (issue 16): server-rendered pages over the same application core the API
/// uses — `WebSessions` over the shared authenticator and throttle, `Administration` for keys,
/// the activity and stats reads of `/v3/messages` and `/v3/stats`. No script runs in its pages,
/// and every value in them is escaped by the templates.
public struct Dashboard: Sendable {
    let sessions: WebSessions
    let administration: Administration
    let activity: any ActivityRepository
    let directory: any DirectoryRepository
    let plans: [String: PlanLimits]
    let clock: @Sendable () -> Int
    /// What is stored of a message by queue id: all of it, or its header once the content was
    /// deleted after delivery.
    let content: @Sendable (String) async -> StoredContent?
    /// Recipients in the queue by state, over every account (operators only).
    let queueDepth: @Sendable () async -> [RecipientState: Int]
    /// The operator's queue page; nil serves none.
    let queue: QueueControl?
    /// For the domains page's live check; nil offers none.
    let resolver: (any DNSResolver)?
    /// The webhooks pages; nil serves none.
    let webhooks: EventWebhooks?
    /// This node's health for operators; nil serves no health page.
    let health: (@Sendable () async -> ServerHealth)?
    let library: MustacheLibrary

    public init(
        sessions: WebSessions, administration: Administration, activity: any ActivityRepository, directory: any DirectoryRepository,
        plans: [String: PlanLimits], clock: @escaping @Sendable () -> Int, content: @escaping @Sendable (String) async -> StoredContent?,
        queueDepth: @escaping @Sendable () async -> [RecipientState: Int], queue: QueueControl? = nil, resolver: (any DNSResolver)? = nil,
        webhooks: EventWebhooks? = nil, health: (@Sendable () async -> ServerHealth)? = nil
    ) throws {
        self.health = health
        self.webhooks = webhooks
        self.resolver = resolver
        self.queue = queue
        self.sessions = sessions
        self.administration = administration
        self.activity = activity
        self.directory = directory
        self.plans = plans
        self.clock = clock
        self.content = content
        self.queueDepth = queueDepth
        library = try DashboardTemplates.library()
    }

    /// Form bodies are small: a login, a key name.
    static let maximumFormBytes = 16 * 1024
    /// Messages per activity page, and pages one may go back.
    static let pageSize = 50
    static let maximumPages = 20

    public func register(on router: Router<APIRequestContext>) {
        let dashboard = self
        router.get("/dashboard/style.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardTemplates.stylesheet)))
        }
        router.get("/dashboard/login") { request, context in await dashboard.loginPage(request, context, error: nil, email: "") }
        router.post("/dashboard/login") { request, context in await dashboard.logIn(request, context) }
        router.post("/dashboard/logout") { request, context in await dashboard.signedIn(request, context, form: true) { session, _ in
            await dashboard.logOut(request, context, session) } }
        router.get("/dashboard") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.overview(session) } }
        router.get("/dashboard/activity") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.activityPage(request, session) } }
        router.get("/dashboard/messages/:id") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.messagePage(context.parameters.get("id") ?? "", session) } }
        router.get("/dashboard/keys") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.keysPage(session, created: nil) } }
        router.post("/dashboard/keys") { request, context in await dashboard.signedIn(request, context, form: true) { session, form in
            await dashboard.createKey(form ?? FormBody([]), session) } }
        router.post("/dashboard/keys/:id/revoke") { request, context in await dashboard.signedIn(request, context, form: true) { session, _ in
            await dashboard.revokeKey(context.parameters.get("id") ?? "", session) } }
        router.get("/dashboard/suppressions") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.suppressionsPage(request, session) } }
        router.post("/dashboard/suppressions/remove") { request, context in await dashboard.signedIn(request, context, form: true) { session, form in
            await dashboard.removeSuppression(form ?? FormBody([]), session) } }
        router.get("/dashboard/sandbox") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.sandboxPage(session) } }
        router.get("/dashboard/sandbox/:id") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.sandboxMessagePage(context.parameters.get("id") ?? "", session) } }
        router.get("/dashboard/sandbox/:id/html") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.sandboxHTML(context.parameters.get("id") ?? "", session) } }
        registerOperatorPages(on: router)
        registerDomainPages(on: router)
        registerWebhookPages(on: router)
    }

    // MARK: - Sessions

    /// Runs `page` for a signed-in user; otherwise to the login page. With `form`, the body is
    /// read (bounded) and must carry the session's CSRF token, or the answer is 403.
    func signedIn(
        _ request: Request, _ context: APIRequestContext, form: Bool = false, page: (WebSession, FormBody?) async -> Response
    ) async -> Response {
        guard let token = SessionCookie.value(SessionCookie.session, in: request.headers[.cookie]), let session = await sessions.session(token: token)
        else {
            if form { return problem(.forbidden, "Not signed in", "Log in again, then repeat what you did.", session: nil) }
            return Self.redirect("/dashboard/login")
        }
        var body: FormBody? = nil
        if form {
            guard let read = await Self.form(request), session.accepts(csrf: read["csrf"]) else {
                return problem(.forbidden, "Form expired", "The form did not carry this session's token. Reload the page and try again.", session: session)
            }
            body = read
        }
        return await page(session, body)
    }

    func loginPage(_ request: Request, _ context: APIRequestContext, error: String?, email: String, status: HTTPResponse.Status = .ok) async -> Response {
        if error == nil, let token = SessionCookie.value(SessionCookie.session, in: request.headers[.cookie]), await sessions.session(token: token) != nil {
            return Self.redirect("/dashboard")
        }
        let csrf = WebSessions.randomToken()
        var values: [String: Any] = ["csrf": csrf, "email": email]
        // Only a present key: swift-mustache treats an `Optional.none` inside `Any` as a value.
        if let error { values["error"] = error }
        var response = page("login", values, title: "Log in", session: nil, current: "", status: status)
        response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.set(SessionCookie.login, csrf, maxAge: 3600, secure: context.overTLS)))
        return response
    }

    func logIn(_ request: Request, _ context: APIRequestContext) async -> Response {
        guard let form = await Self.form(request), let presented = form["csrf"],
            let expected = SessionCookie.value(SessionCookie.login, in: request.headers[.cookie]),
            WebSessions.constantTimeEqual(Array(presented.utf8), Array(expected.utf8))
        else {
            return await loginPage(request, context, error: "The form expired. Please log in again.", email: "", status: .forbidden)
        }
        let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces)
        switch await sessions.logIn(email: email, password: form["password"] ?? "", client: context.clientAddress) {
        case .success(let opened):
            var response = Self.redirect("/dashboard")
            response.headers.append(
                HTTPField(name: .setCookie, value: SessionCookie.set(SessionCookie.session, opened.token, maxAge: sessions.lifetime, secure: context.overTLS)))
            response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.clear(SessionCookie.login, secure: context.overTLS)))
            return response
        case .failure(.badCredentials):
            return await loginPage(request, context, error: "Wrong address or password.", email: email, status: .unauthorized)
        case .failure(.throttled):
            return await loginPage(
                request, context, error: "Too many failed logins from your address; try again later.", email: email, status: .tooManyRequests)
        case .failure(.storeFailed):
            return await loginPage(request, context, error: "The server could not open a session; try again.", email: email, status: .serviceUnavailable)
        }
    }

    func logOut(_ request: Request, _ context: APIRequestContext, _ session: WebSession) async -> Response {
        if let token = SessionCookie.value(SessionCookie.session, in: request.headers[.cookie]) { await sessions.logOut(token: token) }
        var response = Self.redirect("/dashboard/login")
        response.headers.append(HTTPField(name: .setCookie, value: SessionCookie.clear(SessionCookie.session, secure: context.overTLS)))
        return response
    }

    // MARK: - Rendering

    /// A page in the layout, with the headers every dashboard page carries: no script may run
    /// and nothing may load from elsewhere (CSP), no framing, no caching of account data.
    func page(
        _ template: String, _ values: [String: Any], title: String, session: WebSession?, current: String, status: HTTPResponse.Status = .ok,
        framesSelf: Bool = false, scriptsSelf: Bool = false
    ) -> Response {
        let content = library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "content": content]
        if let session {
            layout["session"] = [
                "user": session.user, "isOperator": session.isOperator, "csrf": session.csrf, current: true,
            ] as [String: Any]
        }
        let html = library.render(layout, withTemplate: "layout") ?? ""
        return Response(
            status: status, headers: Self.pageHeaders(framesSelf: framesSelf, scriptsSelf: scriptsSelf), body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// `framesSelf`: the page embeds a message's HTML from `/dashboard/sandbox/…/html`, itself
    /// served sandboxed (`sandboxedHTMLHeaders`).
    static func pageHeaders(framesSelf: Bool = false, scriptsSelf: Bool = false) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            + (framesSelf ? "; frame-src 'self'" : "") + (scriptsSelf ? "; script-src 'self'" : "")
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[.cacheControl] = "no-store"
        return headers
    }

    func problem(_ status: HTTPResponse.Status, _ title: String, _ text: String, session: WebSession?) -> Response {
        page("problem", ["title": title, "text": text], title: title, session: session, current: "", status: status)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func form(_ request: Request) async -> FormBody? {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: maximumFormBytes) else { return nil }
        return FormBody(buffer.readableBytesView)
    }

    static func time(_ unixSeconds: Int) -> String { MessageDate.rfc3339(unixSeconds: unixSeconds) }
}
