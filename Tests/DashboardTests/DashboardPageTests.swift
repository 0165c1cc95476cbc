import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import Testing
import WebAPI

@testable import Dashboard

/// A receiver that answers from a script and keeps what it was sent.
final class ScriptedReceiver: WebhookTransport, @unchecked Sendable {
    let lock = NSLock()
    var posts: [(url: String, body: [UInt8], headers: [(name: String, value: String)])] = []
    var answers: [WebhookPostResult] = []

    func post(url: String, body: [UInt8], headers: [(name: String, value: String)]) async -> WebhookPostResult {
        lock.withLock {
            posts.append((url, body, headers))
            return answers.isEmpty ? .answered(status: 204) : answers.removeFirst()
        }
    }

    var count: Int { lock.withLock { posts.count } }
}

extension DashboardRouterTests {
    /// Add a webhook through the form, press test (once answered, once refused), see both posts
    /// in its log with their status codes; signing on shows the public key; another account
    /// gets 404 for the page and its buttons; a form without the token changes nothing.
    @Test func webhooksAddTestLogAndIsolation() async throws {
        let receiver = ScriptedReceiver()
        let f = try await fresh(webhookTransport: receiver)
        try await f.app.test(.router) { client in
            let (cookie, csrf) = try #require(try await logIn(client, email: "alice@example.test", password: "pw-123456"))
            let headers: HTTPFields = [.cookie: "\(SessionCookie.session)=\(cookie)", .contentType: "application/x-www-form-urlencoded"]
            func post(_ uri: String, _ body: String, as headers: HTTPFields = headers) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
            }

            let forged = try await post("/dashboard/webhooks", "url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&event=delivered")
            #expect(forged.status == .forbidden)
            #expect(try await f.store.webhooks(account: "alice@example.test").isEmpty)

            let bad = try await post("/dashboard/webhooks", "csrf=\(csrf)&url=ftp%3A%2F%2Fx&event=delivered")
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("http:// or https://"))

            let added = try await post("/dashboard/webhooks", "csrf=\(csrf)&url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&name=CI+%3Cb%3E&event=delivered&event=bounce")
            #expect(added.status == .seeOther)
            let webhook = try #require(try await f.store.webhooks(account: "alice@example.test").first)
            #expect(added.headers[.location] == "/dashboard/webhooks/\(webhook.id)")
            #expect(webhook.events == ["delivered", "bounce"] && webhook.friendlyName == "CI <b>" && webhook.enabled)

            let list = String(buffer: try await client.execute(uri: "/dashboard/webhooks", method: .get, headers: headers).body)
            #expect(list.contains("CI &lt;b&gt;") && !list.contains("CI <b>") && list.contains("Delivered, Bounced"))

            let tested = try await post("/dashboard/webhooks/\(webhook.id)/test", "csrf=\(csrf)")
            #expect(tested.status == .ok && String(buffer: tested.body).contains("answered HTTP 204"))
            #expect(receiver.count == 1 && receiver.posts[0].url == "http://127.0.0.1:9/hook")
            receiver.lock.withLock { receiver.answers = [.answered(status: 503)] }
            let refused = try await post("/dashboard/webhooks/\(webhook.id)/test", "csrf=\(csrf)")
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("the receiver answered HTTP 503"))
            let log = try await f.store.webhookAttempts(webhookID: webhook.id, limit: 10)
            #expect(log.map(\.status) == [503, 204] && log.allSatisfy { $0.outcome == .test && $0.events == 1 })
            let page = String(buffer: try await client.execute(uri: "/dashboard/webhooks/\(webhook.id)", method: .get, headers: headers).body)
            #expect(page.contains(">503<") && page.contains(">204<"))

            // Signing: on shows the key the signature verifies with; the next test is signed.
            let signing = try await post("/dashboard/webhooks/\(webhook.id)/signing", "csrf=\(csrf)&enabled=on")
            let key = try #require(try await f.store.webhook(id: webhook.id)?.signingKey)
            #expect(String(buffer: signing.body).contains(try #require(WebhookSignature.publicKey(of: key))))
            _ = try await post("/dashboard/webhooks/\(webhook.id)/test", "csrf=\(csrf)")
            #expect(receiver.posts.last?.headers.contains { $0.name == WebhookSignature.signatureHeader } == true)

            // Settings: an unticked box is off; disabling is kept.
            let saved = try await post("/dashboard/webhooks/\(webhook.id)/settings", "csrf=\(csrf)&url=http%3A%2F%2F127.0.0.1%3A9%2Fother&event=open")
            #expect(saved.status == .ok)
            let changed = try #require(try await f.store.webhook(id: webhook.id))
            #expect(changed.url == "http://127.0.0.1:9/other" && changed.events == ["open"] && !changed.enabled)

            // Bob sees none of it, and cannot press its buttons.
            let (bobCookie, bobCSRF) = try #require(try await logIn(client, email: "bob@example.test", password: "pw-654321"))
            let bob: HTTPFields = [.cookie: "\(SessionCookie.session)=\(bobCookie)", .contentType: "application/x-www-form-urlencoded"]
            #expect(try await client.execute(uri: "/dashboard/webhooks/\(webhook.id)", method: .get, headers: bob).status == .notFound)
            let before = receiver.count
            for action in ["test", "remove", "settings", "signing"] {
                #expect(try await post("/dashboard/webhooks/\(webhook.id)/\(action)", "csrf=\(bobCSRF)&url=http%3A%2F%2F127.0.0.1%3A9%2Fbob", as: bob).status == .notFound)
            }
            let untouched = try await f.store.webhook(id: webhook.id)
            #expect(receiver.count == before && untouched?.url == "http://127.0.0.1:9/other")
            #expect(!String(buffer: try await client.execute(uri: "/dashboard/webhooks", method: .get, headers: bob).body).contains(webhook.id))

            let removed = try await post("/dashboard/webhooks/\(webhook.id)/remove", "csrf=\(csrf)")
            let gone = try await f.store.webhook(id: webhook.id)
            #expect(removed.status == .seeOther && gone == nil)
            #expect(try await f.store.webhookAttempts(webhookID: webhook.id, limit: 10).isEmpty)
        }
    }
}

extension DashboardRouterTests {
    /// The health page is an operator's: its warnings are shown, escaped; anyone else gets 404.
    @Test func healthIsShownToOperatorsOnly() async throws {
        let f = try await fresh()
        try await f.admin.setOperator("bob@example.test", true)
        try await f.app.test(.router) { client in
            let (alice, _) = try #require(try await logIn(client, email: "alice@example.test", password: "pw-123456"))
            let refused = try await client.execute(uri: "/dashboard/health", method: .get, headers: [.cookie: "\(SessionCookie.session)=\(alice)"])
            #expect(refused.status == .notFound && !String(buffer: refused.body).contains("Server health"))
            let (bob, _) = try #require(try await logIn(client, email: "bob@example.test", password: "pw-654321"))
            let page = try await client.execute(uri: "/dashboard/health", method: .get, headers: [.cookie: "\(SessionCookie.session)=\(bob)"])
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            #expect(html.contains("The data disk has 0% (512 MiB) free") && html.contains("Delivery is behind: a recipient has been due for 60 minutes"))
            #expect(html.contains("/data/&lt;tern&gt;.sqlite") && html.contains("up 2 h 0 min") && html.contains("<td>deferred</td><td>7</td>"))
            #expect(html.contains("127.0.0.1:2525") && html.contains("64.0 MiB resident"))
        }
    }
}

extension DashboardRouterTests {
    /// A message page shows the header and source while the content is kept, and the header
    /// alone (no source, no body) once it was deleted after delivery.
    @Test func aDeliveredMessageShowsItsKeptHeaderOnly() async throws {
        let f = try await fresh()
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<r@dest.test>"))])
        var sent = IncomingMessage(
            id: QueueID.make(), envelope: envelope,
            content: Data("Authentication-Results: mx.example.test; dkim=pass header.d=example.test\r\nSubject: kept <header>\r\n\r\nSECRET BODY\r\n".utf8),
            receivedAt: MessageDate.nowUnixSeconds(), clientAddress: "127.0.0.1", heloName: nil, authenticatedAs: "alice@example.test")
        sent.tags = MessageTags(categories: ["kept"])
        try await f.store.enqueue(sent)
        let id = sent.id
        let row = try #require(try await f.store.activity(account: "alice@example.test", filter: ActivityFilter(), limit: 10).first)
        try await f.app.test(.router) { client in
            let (cookie, _) = try #require(try await logIn(client, email: "alice@example.test", password: "pw-123456"))
            let uri = "/dashboard/messages/\(row.sgMessageID)"
            let queued = String(buffer: try await client.execute(uri: uri, method: .get, headers: [.cookie: "\(SessionCookie.session)=\(cookie)"]).body)
            #expect(queued.contains("SECRET BODY") && queued.contains("Raw source") && !queued.contains("body was deleted"))
            try await f.store.record(
                [DeliveryOutcome(messageID: id, position: 0, recipient: "r@dest.test", state: .delivered, reply: "250 ok", nextAttemptAt: nil)],
                bounces: [], at: MessageDate.nowUnixSeconds())
            let delivered = String(buffer: try await client.execute(uri: uri, method: .get, headers: [.cookie: "\(SessionCookie.session)=\(cookie)"]).body)
            #expect(delivered.contains("The body was deleted at") && delivered.contains("Subject: kept &lt;header&gt;"))
            #expect(delivered.contains("dkim=pass header.d=example.test"))
            #expect(!delivered.contains("SECRET BODY") && !delivered.contains("Raw source"))
        }
    }
}

extension DashboardRouterTests {
    /// Activity is searched by category and by a range of UTC days (the until day included).
    @Test func activityByCategoryAndDays() async throws {
        let f = try await fresh()
        let day = 1_795_996_800  // 2026-11-30T00:00:00Z
        for (index, (category, at)) in [("news", day - 86400 + 5), ("news", day + 86399), ("receipts", day + 10), ("news", day + 86400)].enumerated() {
            let envelope = Envelope(
                reversePath: try ReversePath(parsing: "<alice@example.test>"),
                recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<r\(index)@dest.test>"))])
            var message = IncomingMessage(
                id: QueueID.make(), envelope: envelope, content: Data("Subject: s\(index)\r\n\r\nb\r\n".utf8), receivedAt: at, clientAddress: "127.0.0.1",
                heloName: nil, authenticatedAs: "alice@example.test")
            message.tags = MessageTags(categories: [category, "all"])
            try await f.store.enqueue(message)
        }
        try await f.app.test(.router) { client in
            let (cookie, _) = try #require(try await logIn(client, email: "alice@example.test", password: "pw-123456"))
            func recipients(_ query: String) async throws -> [String] {
                let html = String(buffer: try await client.execute(uri: "/dashboard/activity?\(query)", method: .get, headers: [.cookie: "\(SessionCookie.session)=\(cookie)"]).body)
                return (0..<4).map { "r\($0)@dest.test" }.filter { html.contains(">\($0)<") }
            }
            #expect(try await recipients("") == ["r0@dest.test", "r1@dest.test", "r2@dest.test", "r3@dest.test"])
            #expect(try await recipients("category=news") == ["r0@dest.test", "r1@dest.test", "r3@dest.test"])
            #expect(try await recipients("category=new") == [])
            #expect(try await recipients("since=2026-11-30&until=2026-11-30") == ["r1@dest.test", "r2@dest.test"])
            #expect(try await recipients("category=news&since=2026-11-30") == ["r1@dest.test", "r3@dest.test"])
            #expect(try await recipients("until=2026-11-29") == ["r0@dest.test"])
            // A date that is no date is ignored, not an error.
            #expect(try await recipients("since=2026-02-30").count == 4)
        }
    }
}

extension DashboardRouterTests {
    /// Unsubscribe groups are lists on the suppressions page too; another account's group id
    /// shows and removes nothing.
    @Test func groupUnsubscribesAreListedAndRemoved() async throws {
        let f = try await fresh()
        let news = try await f.store.addGroup(account: "alice@example.test", name: "News <weekly>", description: "", isDefault: false, at: 1)
        let bobs = try await f.store.addGroup(account: "bob@example.test", name: "Bob's", description: "", isDefault: false, at: 1)
        _ = try await f.admin.suppress("reader@dest.test", for: "alice@example.test", list: .group, group: news.id)
        _ = try await f.admin.suppress("secret@dest.test", for: "bob@example.test", list: .group, group: bobs.id)
        try await f.app.test(.router) { client in
            let alice = try #require(try await logIn(client, email: "alice@example.test", password: "pw-123456"))
            let headers: HTTPFields = [.cookie: "\(SessionCookie.session)=\(alice.cookie)", .contentType: "application/x-www-form-urlencoded"]
            let bounces = String(buffer: try await client.execute(uri: "/dashboard/suppressions", method: .get, headers: headers).body)
            #expect(bounces.contains("unsubscribe group: News &lt;weekly&gt;") && !bounces.contains("Bob"))
            let group = String(buffer: try await client.execute(uri: "/dashboard/suppressions?list=group-\(news.id)", method: .get, headers: headers).body)
            #expect(group.contains("reader@dest.test"))
            let other = String(buffer: try await client.execute(uri: "/dashboard/suppressions?list=group-\(bobs.id)", method: .get, headers: headers).body)
            #expect(!other.contains("secret@dest.test"))
            let refused = try await client.execute(
                uri: "/dashboard/suppressions/remove", method: .post, headers: headers,
                body: ByteBuffer(string: "csrf=\(alice.csrf)&list=group-\(bobs.id)&email=secret%40dest.test"))
            #expect(refused.status == .notFound)
            #expect(try await f.admin.suppressions(of: "bob@example.test", list: .group, group: bobs.id).count == 1)
            let removed = try await client.execute(
                uri: "/dashboard/suppressions/remove", method: .post, headers: headers,
                body: ByteBuffer(string: "csrf=\(alice.csrf)&list=group-\(news.id)&email=reader%40dest.test"))
            #expect(removed.status == .seeOther && removed.headers[.location] == "/dashboard/suppressions?list=group-\(news.id)")
            #expect(try await f.admin.suppressions(of: "alice@example.test", list: .group, group: news.id).isEmpty)
        }
    }
}
