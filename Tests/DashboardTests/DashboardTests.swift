import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import Testing
import WebAPI
import DNSClient

@testable import Dashboard

@Suite struct ActivityChartTests {
    @Test func axisTopsAreReadable() {
        #expect([0, 1, 2, 3, 7, 10, 11, 49, 51, 999, 1001].map(ActivityChart.axisTop) == [1, 1, 2, 5, 10, 10, 20, 50, 100, 1000, 2000])
    }

    @Test func linesTableAndEscaping() {
        let chart = ActivityChart(
            days: [0, 86400, 172800], series: [.init(name: "Requests", style: "s0", values: [0, 5, 10]), .init(name: "<b>", style: "s1", values: [1, 0, 0])])
        let svg = chart.svg
        // Top of the scale is 10: the last point is at the plot's top, the first at its bottom.
        #expect(svg.contains("points=\"36.0,204.0 360.0,120.0 684.0,36.0\""))
        #expect(svg.contains("<title>&lt;b&gt;</title>") && !svg.contains("<b>"))
        #expect(svg.contains(">1970-01-01<") && svg.contains(">1970-01-03<"))
        let table = chart.table
        #expect(table.contains("<tr><th scope=\"row\">1970-01-02</th><td>5</td><td>0</td></tr>"))
        #expect(table.contains("<th scope=\"col\">&lt;b&gt;</th>"))
    }
}

@Suite struct SessionCookieTests {
    @Test func cookies() {
        #expect(SessionCookie.value("tern_session", in: "a=1; tern_session=abc; b=2") == "abc")
        #expect(SessionCookie.value("tern_session", in: "xtern_session=abc") == nil)
        #expect(SessionCookie.value("tern_session", in: nil) == nil)
        #expect(SessionCookie.set("tern_session", "v", maxAge: 60, secure: true) == "tern_session=v; Path=/dashboard; Max-Age=60; HttpOnly; SameSite=Strict; Secure")
    }
}

/// The dashboard through its router, in process: login with the shared throttle, CSRF on
/// every form, account isolation. (Headless Chromium drives the real binary in
/// interop/test_dashboard.py.)
@Suite struct DashboardRouterTests {
    struct Fixture {
        let store: SQLiteStore
        let admin: Administration
        let app: Application<RouterResponder<APIRequestContext>>
    }

    func fresh(webhookTransport: (any WebhookTransport)? = nil) async throws -> Fixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-dashboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("tern.sqlite").path)
        let admin = Administration(store: store, hostname: "mx.example.test", planNames: ["free"], keepsCRAMSecrets: false)
        _ = try await admin.addDomain("example.test", dkim: .ed25519)
        _ = try await admin.addUser("alice@example.test", password: "pw-123456")
        _ = try await admin.addUser("bob@example.test", password: "pw-654321")
        let limits = AbuseLimits(settings: AbuseLimits.Settings(authFailuresBeforeDelay: 100, authFailuresBeforeBlock: 3))
        let authenticator = AccountAuthenticator(directory: store)
        let sessions = WebSessions(store: store, directory: store, authenticator: authenticator, limits: limits, clock: { MessageDate.nowUnixSeconds() })
        let dashboard = try Dashboard(
            sessions: sessions, administration: admin, activity: store, directory: store, plans: ["free": PlanLimits(dailyMessages: 100)],
            clock: { MessageDate.nowUnixSeconds() }, content: { id in (try? await store.storedContent(id: id)) ?? nil }, queueDepth: { [:] },
            queue: QueueControl(store: store, clock: { MessageDate.nowUnixSeconds() }, wake: {}),
            resolver: ZoneResolver(records: [
                DNSRecord(name: try DNSName("example.test"), type: 15, ttl: 300, data: .mx(preference: 10, exchange: try DNSName("mx.example.test"))),
                DNSRecord(name: try DNSName("example.test"), type: 16, ttl: 300, data: .txt([Array("v=spf1 mx -all".utf8)])),
            ]),
            webhooks: webhookTransport.map {
                EventWebhooks(store: store, transport: $0, resolver: ZoneResolver(records: []), allowPrivate: true, clock: { MessageDate.nowUnixSeconds() })
            },
            health: {
                let now = MessageDate.nowUnixSeconds()
                return ServerHealth(
                    hostname: "mx.example.test", now: now, startedAt: now - 7200, residentBytes: 64 << 20,
                    listeners: [ServerHealth.Listener(service: "SMTP (MX)", address: "127.0.0.1:2525", tls: "STARTTLS")], storePath: "/data/<tern>.sqlite",
                    diskFreeBytes: 1 << 29, diskTotalBytes: 100 << 30, queue: [.deferred: 7], oldestDueAt: now - 3600)
            })
        let router = Router(context: APIRequestContext.self)
        dashboard.register(on: router)
        return Fixture(store: store, admin: admin, app: Application(router: router))
    }

    static func cookie(_ name: String, in response: TestResponse) -> String? {
        for field in response.headers where field.name == .setCookie {
            if let value = SessionCookie.value(name, in: String(field.value.split(separator: ";")[0])) { return value }
        }
        return nil
    }

    static func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// Logs in through the form and returns the session cookie and the page's CSRF token.
    func logIn(_ client: some TestClientProtocol, email: String, password: String) async throws -> (cookie: String, csrf: String)? {
        let form = try await client.execute(uri: "/dashboard/login", method: .get)
        let loginCSRF = try #require(Self.cookie(SessionCookie.login, in: form))
        #expect(Self.field("csrf", in: String(buffer: form.body)) == loginCSRF)
        let body = "csrf=\(loginCSRF)&email=\(email.replacingOccurrences(of: "@", with: "%40"))&password=\(password)"
        let answer = try await client.execute(
            uri: "/dashboard/login", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "\(SessionCookie.login)=\(loginCSRF)"], body: ByteBuffer(string: body))
        guard answer.status == .seeOther, let session = Self.cookie(SessionCookie.session, in: answer) else { return nil }
        let page = try await client.execute(uri: "/dashboard/keys", method: .get, headers: [.cookie: "\(SessionCookie.session)=\(session)"])
        return (session, try #require(Self.field("csrf", in: String(buffer: page.body))))
    }

    @Test func loginSessionCSRFAndLogout() async throws {
        let f = try await fresh()
        try await f.app.test(.router) { client in
            // Signed out: pages send to the login form; its answers carry the page headers.
            let anonymous = try await client.execute(uri: "/dashboard", method: .get)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/dashboard/login")
            let form = try await client.execute(uri: "/dashboard/login", method: .get)
            #expect(form.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(form.headers[.setCookie]?.contains("HttpOnly; SameSite=Strict") == true)
            #expect(!String(buffer: form.body).contains("class=\"error\""))

            let wrong = try await logIn(client, email: "alice@example.test", password: "wrong")
            #expect(wrong == nil)
            let (cookie, csrf) = try #require(try await logIn(client, email: "alice@example.test", password: "pw-123456"))
            let overview = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: "\(SessionCookie.session)=\(cookie)"])
            #expect(overview.status == .ok)
            let html = String(buffer: overview.body)
            #expect(html.contains("alice@example.test") && html.contains("<svg class=\"chart\""))
            #expect(!html.contains("Queue (all accounts)"))

            // A form without the session's token is refused and changes nothing.
            let headers: HTTPFields = [.cookie: "\(SessionCookie.session)=\(cookie)", .contentType: "application/x-www-form-urlencoded"]
            let forged = try await client.execute(uri: "/dashboard/keys", method: .post, headers: headers, body: ByteBuffer(string: "name=evil"))
            #expect(forged.status == .forbidden)
            #expect(try await f.admin.apiKeys(of: "alice@example.test").isEmpty)
            let made = try await client.execute(
                uri: "/dashboard/keys", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)&name=ci&scope=mail.send"))
            #expect(made.status == .created)
            let keys = try await f.admin.apiKeys(of: "alice@example.test")
            #expect(keys.map(\.name) == ["ci"] && keys[0].scopes == [.mailSend])
            // The secret is on the page once, and it works as a key.
            let secret = try #require(String(buffer: made.body).split(separator: "<code class=\"secret\">").last?.split(separator: "<").first)
            #expect(AccountAuthenticator(directory: f.store).apiKey(text: String(secret))?.id == keys[0].id)

            let out = try await client.execute(uri: "/dashboard/logout", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(out.status == .seeOther && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: "\(SessionCookie.session)=\(cookie)"])
            #expect(after.status == .seeOther)
        }
    }

    @Test func anAccountSeesOnlyItsOwnKeysAndMessages() async throws {
        let f = try await fresh()
        let bobs = try await f.admin.createAPIKey(for: "bob@example.test", name: "bob's").record
        try await f.app.test(.router) { client in
            let (cookie, csrf) = try #require(try await logIn(client, email: "alice@example.test", password: "pw-123456"))
            let headers: HTTPFields = [.cookie: "\(SessionCookie.session)=\(cookie)", .contentType: "application/x-www-form-urlencoded"]
            let page = try await client.execute(uri: "/dashboard/keys", method: .get, headers: headers)
            #expect(!String(buffer: page.body).contains(bobs.id))
            let revoke = try await client.execute(
                uri: "/dashboard/keys/\(bobs.id)/revoke", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(revoke.status == .notFound)
            #expect(try await f.admin.apiKeys(of: "bob@example.test")[0].revokedAt == nil)
            let message = try await client.execute(uri: "/dashboard/messages/06h2000000000000.0", method: .get, headers: headers)
            #expect(message.status == .notFound)
        }
    }

    @Test func failedLoginsCountInTheSharedThrottle() async throws {
        let f = try await fresh()
        try await f.app.test(.router) { client in
            for _ in 0..<3 {
                let refused = try await logIn(client, email: "alice@example.test", password: "nope")
                #expect(refused == nil)
            }
            // Blocked now, even with the right password.
            let blocked = try await logIn(client, email: "alice@example.test", password: "pw-123456")
            #expect(blocked == nil)
        }
    }
}

@Suite struct DashboardSandboxTests {
    @Test func theHTMLFrameIsServedSandboxedAndOnlyToItsAccount() async throws {
        let f = try await DashboardRouterTests().fresh()
        try await f.admin.setSandboxed("alice@example.test", true)
        let intake = MessageIntake(
            hostname: "mx.example.test", directory: f.store, queue: f.store, plans: ["free": PlanLimits()], hasFreeSpace: { true })
        var origin = MessageOrigin(clientAddress: "127.0.0.1", account: "alice@example.test", atMX: false)
        origin.sandbox = true
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<x@dest.test>"))])
        let body = "From: alice@example.test\r\nSubject: captured\r\nContent-Type: text/html\r\n\r\n<p id=\"p\">Hi</p><script>alert(1)</script>\r\n"
        guard case .accepted(let ids) = await intake.submit([Submission(envelope: envelope, content: ByteBuffer(string: body))], withProtocol: "HTTP", origin: origin, request: nil)
        else { throw StoreError.notFound("accepted") }
        try await f.app.test(.router) { client in
            let alice = try #require(try await DashboardRouterTests().logIn(client, email: "alice@example.test", password: "pw-123456"))
            let cookie: HTTPFields = [.cookie: "\(SessionCookie.session)=\(alice.cookie)"]
            let page = try await client.execute(uri: "/dashboard/sandbox/\(ids[0])", method: .get, headers: cookie)
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.hasSuffix("frame-src 'self'") == true)
            let html = String(buffer: page.body)
            #expect(html.contains("<iframe class=\"mail\" sandbox src=\"/dashboard/sandbox/\(ids[0])/html\""))
            // The source is shown as text, never as markup of the dashboard's page.
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"))
            let frame = try await client.execute(uri: "/dashboard/sandbox/\(ids[0])/html", method: .get, headers: cookie)
            #expect(frame.headers[.contentSecurityPolicy]?.hasPrefix("sandbox; default-src 'none'") == true)
            #expect(String(buffer: frame.body).contains("<p id=\"p\">Hi</p>"))

            let bob = try #require(try await DashboardRouterTests().logIn(client, email: "bob@example.test", password: "pw-654321"))
            let bobs: HTTPFields = [.cookie: "\(SessionCookie.session)=\(bob.cookie)"]
            #expect(try await client.execute(uri: "/dashboard/sandbox/\(ids[0])", method: .get, headers: bobs).status == .notFound)
            #expect(try await client.execute(uri: "/dashboard/sandbox/\(ids[0])/html", method: .get, headers: bobs).status == .notFound)
        }
    }

    @Test func aSuppressionIsRemovedOnlyWithTheFormsToken() async throws {
        let f = try await DashboardRouterTests().fresh()
        _ = try await f.admin.suppress("gone@dest.test", for: "alice@example.test", list: .bounces)
        try await f.app.test(.router) { client in
            let alice = try #require(try await DashboardRouterTests().logIn(client, email: "alice@example.test", password: "pw-123456"))
            let headers: HTTPFields = [.cookie: "\(SessionCookie.session)=\(alice.cookie)", .contentType: "application/x-www-form-urlencoded"]
            let listed = try await client.execute(uri: "/dashboard/suppressions?list=bounces&q=GONE", method: .get, headers: headers)
            #expect(String(buffer: listed.body).contains("gone@dest.test"))
            let forged = try await client.execute(
                uri: "/dashboard/suppressions/remove", method: .post, headers: headers, body: ByteBuffer(string: "list=bounces&email=gone%40dest.test"))
            #expect(forged.status == .forbidden)
            #expect(try await f.admin.suppressions(of: "alice@example.test", list: .bounces).count == 1)
            let removed = try await client.execute(
                uri: "/dashboard/suppressions/remove", method: .post, headers: headers,
                body: ByteBuffer(string: "csrf=\(alice.csrf)&list=bounces&email=gone%40dest.test"))
            #expect(removed.status == .seeOther)
            #expect(try await f.admin.suppressions(of: "alice@example.test", list: .bounces).isEmpty)
        }
    }
}

@Suite struct DashboardOperatorTests {
    @Test func onlyOperatorsSeeTheQueueAndUsersAndTheyCanActOnThem() async throws {
        let f = try await DashboardRouterTests().fresh()
        try await f.admin.setOperator("bob@example.test", true)
        // A deferred message to retry, and one to remove.
        let intake = MessageIntake(hostname: "mx.example.test", directory: f.store, queue: f.store, plans: ["free": PlanLimits()], hasFreeSpace: { true })
        var ids: [String] = []
        for subject in ["one", "two"] {
            let envelope = Envelope(
                reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<x@dest.test>"))])
            guard case .accepted(let accepted) = await intake.submit(
                [Submission(envelope: envelope, content: ByteBuffer(string: "From: alice@example.test\r\nSubject: \(subject)\r\n\r\nbody\r\n"))],
                withProtocol: "HTTP", origin: MessageOrigin(clientAddress: "127.0.0.1", account: "alice@example.test", atMX: false), request: nil)
            else { throw StoreError.notFound("accepted") }
            ids += accepted
        }
        let queued = ids
        try await f.app.test(.router) { client in
            let ids = queued
            let alice = try #require(try await DashboardRouterTests().logIn(client, email: "alice@example.test", password: "pw-123456"))
            for path in ["/dashboard/queue", "/dashboard/users"] {
                let refused = try await client.execute(uri: path, method: .get, headers: [.cookie: "\(SessionCookie.session)=\(alice.cookie)"])
                #expect(refused.status == .notFound)
            }
            let bob = try #require(try await DashboardRouterTests().logIn(client, email: "bob@example.test", password: "pw-654321"))
            let headers: HTTPFields = [.cookie: "\(SessionCookie.session)=\(bob.cookie)", .contentType: "application/x-www-form-urlencoded"]
            let queue = String(buffer: try await client.execute(uri: "/dashboard/queue", method: .get, headers: headers).body)
            #expect(queue.contains(ids[0]) && queue.contains(ids[1]) && queue.contains("x@dest.test"))
            let removed = try await client.execute(
                uri: "/dashboard/queue/\(ids[1])/remove", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(bob.csrf)"))
            #expect(removed.status == .seeOther)
            #expect(try await f.store.queuedMessage(id: ids[1]) == nil)
            let retried = try await client.execute(
                uri: "/dashboard/queue/\(ids[0])/retry", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(bob.csrf)"))
            #expect(retried.status == .seeOther)

            // Users: add one, set its quota and role; an operator cannot drop their own role.
            let added = try await client.execute(
                uri: "/dashboard/users", method: .post, headers: headers,
                body: ByteBuffer(string: "csrf=\(bob.csrf)&address=carol%40example.test&password=long-enough&plan=free&operator=on"))
            #expect(added.status == .created)
            #expect(try await f.admin.user("carol@example.test").isOperator)
            _ = try await client.execute(
                uri: "/dashboard/users/quota", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(bob.csrf)&address=carol%40example.test&mib=5"))
            #expect(try f.admin.mailboxUsage("carol@example.test").quota == 5 * 1_048_576)
            let selfDemotion = try await client.execute(
                uri: "/dashboard/users/operator", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(bob.csrf)&address=bob%40example.test&operator=off"))
            #expect(selfDemotion.status == .badRequest)
            #expect(try await f.admin.user("bob@example.test").isOperator)
            let users = String(buffer: try await client.execute(uri: "/dashboard/users", method: .get, headers: headers).body)
            #expect(users.contains("carol@example.test") && users.contains("5.0 MiB"))
        }
    }
}

@Suite struct DashboardDomainTests {
    @Test func recordsLiveCheckAndRotation() async throws {
        let f = try await DashboardRouterTests().fresh()
        _ = try await f.admin.addDomain("other.test", dkim: .ed25519)
        try await f.app.test(.router) { client in
            let alice = try #require(try await DashboardRouterTests().logIn(client, email: "alice@example.test", password: "pw-123456"))
            let headers: HTTPFields = [.cookie: "\(SessionCookie.session)=\(alice.cookie)", .contentType: "application/x-www-form-urlencoded"]
            let list = String(buffer: try await client.execute(uri: "/dashboard/domains", method: .get, headers: headers).body)
            #expect(list.contains("/dashboard/domains/example.test") && !list.contains("other.test"))
            #expect(try await client.execute(uri: "/dashboard/domains/other.test", method: .get, headers: headers).status == .notFound)
            let page = try await client.execute(uri: "/dashboard/domains/example.test?check=1", method: .get, headers: headers)
            #expect(page.headers[.contentSecurityPolicy]?.hasSuffix("script-src 'self'") == true)
            let html = String(buffer: page.body)
            // A copy button per record, and the findings: MX and SPF published, DMARC missing.
            #expect(html.contains("data-copy=\"10 mx.example.test.\""))
            #expect(html.contains("<th scope=\"row\">MX</th><td><span class=\"status delivered\">ok</span>"))
            #expect(html.contains("<th scope=\"row\">SPF</th><td><span class=\"status delivered\">ok</span>"))
            #expect(html.contains("<th scope=\"row\">DMARC</th><td><span class=\"status bounced\">fix</span>"))
            #expect(!html.contains("Rotate the DKIM key"))
            let refused = try await client.execute(
                uri: "/dashboard/domains/example.test/rotate", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(alice.csrf)"))
            #expect(refused.status == .notFound)
            #expect(try await f.admin.dkimKeys(domain: "example.test").count == 1)

            try await f.admin.setOperator("bob@example.test", true)
            let bob = try #require(try await DashboardRouterTests().logIn(client, email: "bob@example.test", password: "pw-654321"))
            let bobs: HTTPFields = [.cookie: "\(SessionCookie.session)=\(bob.cookie)", .contentType: "application/x-www-form-urlencoded"]
            let all = String(buffer: try await client.execute(uri: "/dashboard/domains", method: .get, headers: bobs).body)
            #expect(all.contains("other.test"))
            let rotated = try await client.execute(
                uri: "/dashboard/domains/example.test/rotate", method: .post, headers: bobs, body: ByteBuffer(string: "csrf=\(bob.csrf)"))
            #expect(rotated.status == .seeOther)
            let keys = try await f.admin.dkimKeys(domain: "example.test")
            #expect(keys.count == 2 && keys.filter { $0.state == .active }.count == 1)
            let script = try await client.execute(uri: "/dashboard/copy.js", method: .get)
            #expect(String(buffer: script.body).contains("navigator.clipboard"))
        }
    }
}
