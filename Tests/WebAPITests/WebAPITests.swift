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
import SendGridProtocol
import Testing
import DNSClient

@testable import WebAPI

/// The HTTP API through its router, in process: authentication, scopes, SendGrid's error
/// bodies, the send endpoint's answers. (The wire, SendGrid's own library and real delivery are
/// in interop/test_http_api.py.)
@Suite struct WebAPIRouterTests {
    struct Fixture {
        let store: SQLiteStore
        let admin: Administration
        let app: Application<RouterResponder<APIRequestContext>>
        let key: String
    }

    func fresh(authFailuresBeforeBlock: Int = 10) async throws -> Fixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-webapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("tern.sqlite").path)
        let admin = Administration(store: store, hostname: "mx.example.test", planNames: ["free"], keepsCRAMSecrets: false)
        _ = try await admin.addDomain("example.test", dkim: .ed25519)
        _ = try await admin.addUser("alice@example.test", password: "pw-123456")
        let key = try await admin.createAPIKey(for: "alice@example.test").text
        let intake = MessageIntake(
            hostname: "mx.example.test", directory: store, queue: store, plans: ["free": PlanLimits(dailyMessages: 100)], hasFreeSpace: { true })
        let limits = AbuseLimits(
            settings: AbuseLimits.Settings(authFailuresBeforeDelay: 100, authFailuresBeforeBlock: authFailuresBeforeBlock))
        let api = WebAPI(
            settings: WebAPISettings(hostname: "mx.example.test"), intake: intake, authenticator: AccountAuthenticator(directory: store),
            limits: limits, administration: admin, directory: store, activity: store, webhooks: store, webhookTransport: RecordingTransport(),
            resolver: ZoneResolver(records: []), suppressions: store, sandboxes: store)
        let app = Application(router: api.router(logger: Logger(label: "test")))
        return Fixture(store: store, admin: admin, app: app, key: key)
    }

    static let sendBody = #"""
        {"personalizations":[{"to":[{"email":"bob@dest.test"}]}],"from":{"email":"alice@example.test"},"subject":"Hi",
         "content":[{"type":"text/plain","value":"Hello"}]}
        """#

    /// The errors of a SendGrid error body; none when the body is not one.
    func errors(_ response: TestResponse) -> [APIError] {
        (try? JSONDecoder().decode(APIError.Body.self, from: Data(response.body.readableBytesView)))?.errors ?? []
    }

    @Test func aMissingBadOrRevokedKeyGetsSendGridsUnauthorizedAnswer() async throws {
        let f = try await fresh()
        let revoked = try await f.admin.createAPIKey(for: "alice@example.test", name: "old")
        try await f.admin.revokeAPIKey(id: revoked.record.id)
        try await f.app.test(.router) { client in
            for authorization in [nil, "Bearer", "Basic abc", "Bearer tern_notakey", "Bearer \(revoked.text)", "Bearer \(f.key)x"] {
                var headers: HTTPFields = [:]
                if let authorization { headers[.authorization] = authorization }
                try await client.execute(uri: "/v3/api_keys", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized, "\(authorization ?? "none")")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    let body = String(buffer: response.body)
                    #expect(body == #"{"errors":[{"field":null,"help":null,"message":"The provided authorization grant is invalid, expired, or revoked"}]}"#)
                }
            }
            // The scheme is case-insensitive (RFC 9110 §11.1).
            try await client.execute(uri: "/v3/api_keys", method: .get, headers: [.authorization: "bearer \(f.key)"]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func repeatedFailuresBlockTheClientLikeSMTPAuth() async throws {
        let f = try await fresh(authFailuresBeforeBlock: 3)
        try await f.app.test(.router) { client in
            // Requests without a key are not counted.
            for _ in 0..<5 {
                try await client.execute(uri: "/v3/api_keys", method: .get) { #expect($0.status == .unauthorized) }
            }
            try await client.execute(uri: "/v3/api_keys", method: .get, headers: [.authorization: "Bearer \(f.key)"]) { #expect($0.status == .ok) }
            for _ in 0..<3 {
                try await client.execute(uri: "/v3/api_keys", method: .get, headers: [.authorization: "Bearer wrong"]) { #expect($0.status == .unauthorized) }
            }
            // Now even the right key waits out the block.
            try await client.execute(uri: "/v3/api_keys", method: .get, headers: [.authorization: "Bearer \(f.key)"]) { response in
                #expect(response.status == .tooManyRequests)
            }
            // A request without a key is no guess: still a plain 401.
            try await client.execute(uri: "/v3/api_keys", method: .get) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func sendAnswers202WithAMessageIdAndQueuesDurably() async throws {
        let f = try await fresh()
        let scoped = try await f.admin.createAPIKey(for: "alice@example.test", name: "stats", scopes: [.statsRead]).text
        try await f.app.test(.router) { client in
            let id = try await client.execute(
                uri: "/v3/mail/send", method: .post, headers: [.authorization: "Bearer \(f.key)", .contentType: "application/json"],
                body: ByteBuffer(string: Self.sendBody)
            ) { response in
                #expect(response.status == .accepted)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "99")
                return response.headers[HTTPField.Name("X-Message-Id")!]
            }
            #expect(id?.count == 22)
            let queued = try await f.store.listQueue()
            #expect(queued.count == 1 && queued[0].messageID == "<\(id!).0@mx.example.test>")
            #expect(queued[0].authenticatedAs == "alice@example.test")
            // A key without mail.send: 403, nothing more queued.
            try await client.execute(
                uri: "/v3/mail/send", method: .post, headers: [.authorization: "Bearer \(scoped)"], body: ByteBuffer(string: Self.sendBody)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(errors(response) == [APIError("access forbidden")])
            }
            #expect(try await f.store.listQueue().count == 1)
        }
    }

    @Test func trackingSettingsAndBatchIDAreKeptWithTheMessage() async throws {
        let f = try await fresh()
        let body = #"""
            {"personalizations":[{"to":[{"email":"bob@dest.test"}]}],"from":{"email":"alice@example.test"},"subject":"Hi",
             "content":[{"type":"text/plain","value":"Hello"}],"batch_id":"B-1",
             "tracking_settings":{"click_tracking":{"enable":true,"enable_text":false},"open_tracking":{"enable":true,"substitution_tag":"%open%"},
                                  "ganalytics":{"utm_source":"x","weight":1.5}}}
            """#
        try await f.app.test(.router) { client in
            try await client.execute(
                uri: "/v3/mail/send", method: .post, headers: [.authorization: "Bearer \(f.key)"], body: ByteBuffer(string: body)
            ) { #expect($0.status == .accepted) }
        }
        let id = try #require(try await f.store.listQueue().first?.id)
        let options = try #require(try await f.store.sendOptions(id: id))
        #expect(
            options
                == #"{"batch_id":"B-1","tracking_settings":{"click_tracking":{"enable":true,"enable_text":false},"ganalytics":{"utm_source":"x","weight":1.5},"open_tracking":{"enable":true,"substitution_tag":"%open%"}}}"#
        )
    }

    @Test func validationAndRefusalsNameTheirFields() async throws {
        let f = try await fresh()
        let headers: HTTPFields = [.authorization: "Bearer \(f.key)"]
        try await f.app.test(.router) { client in
            // A wrong JSON type is named by its path.
            try await client.execute(
                uri: "/v3/mail/send", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"personalizations":[{"to":"bob@dest.test"}],"from":{"email":"alice@example.test"}}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(errors(response).map(\.field) == ["personalizations.0.to"])
            }
            // A recipient in a hosted domain without that user: its field, indexed past to and cc.
            let body = #"""
                {"personalizations":[{"to":[{"email":"x@dest.test"}],"cc":[{"email":"y@dest.test"}],"bcc":[{"email":"ghost@example.test"}]}],
                 "from":{"email":"alice@example.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}
                """#
            try await client.execute(uri: "/v3/mail/send", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                #expect(errors(response).map(\.field) == ["personalizations.0.bcc.0.email"])
            }
            // Routes that do not exist and methods a route lacks: SendGrid's error body.
            try await client.execute(uri: "/v3/unknown", method: .get, headers: headers) { response in
                #expect(response.status == .notFound)
                #expect(errors(response) == [APIError("resource not found")])
            }
            try await client.execute(uri: "/v3/mail/send", method: .get, headers: headers) { response in
                #expect(response.status == .methodNotAllowed && response.headers[.allow] == "POST")
                #expect(errors(response) == [APIError("method not allowed")])
            }
            try await client.execute(uri: "/v3/api_keys/abc", method: .post, headers: headers) { response in
                #expect(response.status == .methodNotAllowed && response.headers[.allow] == "GET, PUT, DELETE, PATCH")
            }
            #expect(try await f.store.listQueue().isEmpty)
        }
    }

    @Test func theOpenAPIDocumentIsServedAndDescribesEveryRoute() async throws {
        let f = try await fresh()
        try await f.app.test(.router) { client in
            try await client.execute(uri: "/v3/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                let document = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                #expect(document["openapi"] as? String == "3.1.0")
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                #expect(
                    Set(paths.keys) == [
                        "/metrics", "/v3/openapi.json", "/v3/mail/send", "/v3/api_keys", "/v3/api_keys/{api_key_id}", "/v3/messages", "/v3/messages/{msg_id}",
                        "/v3/stats", "/v3/categories/stats", "/v3/tracking_settings", "/v3/tracking_settings/open", "/v3/tracking_settings/click",
                        "/v3/tracking_settings/subscription", "/v3/templates", "/v3/templates/{template_id}", "/v3/templates/{template_id}/versions",
                        "/v3/templates/{template_id}/versions/{version_id}", "/v3/templates/{template_id}/versions/{version_id}/activate", "/v3/user/webhooks/event/settings", "/v3/user/webhooks/event/settings/all",
                        "/v3/user/webhooks/event/settings/{id}", "/v3/user/webhooks/event/settings/signed/{id}", "/v3/user/webhooks/event/test",
                        "/v3/suppression/{list}", "/v3/suppression/{list}/{email}", "/v3/asm/suppressions/global",
                        "/v3/asm/suppressions/global/{email}", "/v3/asm/groups", "/v3/asm/groups/{group}", "/v3/asm/groups/{group}/suppressions",
                        "/v3/asm/groups/{group}/suppressions/{email}", "/v3/sandbox/messages", "/v3/sandbox/messages/{id}",
                        "/v3/sandbox/messages/{id}/raw",
                    ])
                #expect(Set(paths["/v3/api_keys/{api_key_id}"]!.keys) == ["parameters", "get", "patch", "put", "delete"])
            }
        }
    }
}

@Suite struct WebAPIPartsTests {
    @Test func bearerTokens() {
        #expect(APIKeyAuthentication.bearerToken("Bearer abc") == "abc")
        #expect(APIKeyAuthentication.bearerToken("BEARER   abc ") == "abc")
        #expect(APIKeyAuthentication.bearerToken("Bearer") == nil)
        #expect(APIKeyAuthentication.bearerToken("Basic abc") == nil)
        #expect(APIKeyAuthentication.bearerToken(nil) == nil)
        #expect(APIKeyAuthentication.bearerToken("Bearer " + String(repeating: "a", count: 600)) == nil)
    }

    /// gzip of "hello, gzip\n" (Python's gzip.compress with mtime 0).
    static let hello: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 72, 175, 202, 44, 224, 2, 0, 134, 31, 130, 164, 12, 0, 0, 0,
    ]

    @Test func gzipBodiesInflateUnderALimit() throws {
        #expect(String(buffer: try GzipBody.inflate(ByteBuffer(bytes: Self.hello), limit: 100)) == "hello, gzip\n")
        #expect(throws: GzipBody.Failure.tooLarge) { try GzipBody.inflate(ByteBuffer(bytes: Self.hello), limit: 11) }
        #expect(throws: GzipBody.Failure.corrupt) { try GzipBody.inflate(ByteBuffer(bytes: Self.hello.dropLast(6)), limit: 100) }
        #expect(throws: GzipBody.Failure.corrupt) { try GzipBody.inflate(ByteBuffer(bytes: Self.hello + [1, 2, 3]), limit: 100) }
        #expect(throws: GzipBody.Failure.corrupt) { try GzipBody.inflate(ByteBuffer(string: "plain text"), limit: 100) }
        #expect(throws: GzipBody.Failure.corrupt) { try GzipBody.inflate(ByteBuffer(), limit: 100) }
    }

    @Test func recipientFieldsCountThroughToCcAndBcc() throws {
        let body = try JSONDecoder().decode(
            MailSendRequest.self,
            from: Data(#"{"personalizations":[{},{"to":[{"email":"a@x.test"},{"email":"b@x.test"}],"bcc":[{"email":"c@x.test"}]}]}"#.utf8))
        #expect(MailSendEndpoint.recipientField(1, 0, in: body) == "personalizations.1.to.0.email")
        #expect(MailSendEndpoint.recipientField(1, 1, in: body) == "personalizations.1.to.1.email")
        #expect(MailSendEndpoint.recipientField(1, 2, in: body) == "personalizations.1.bcc.0.email")
        #expect(MailSendEndpoint.recipientField(1, 3, in: body) == "personalizations.1")
    }

    @Test func refusalsMapToOneStatusForTheRequest() throws {
        let body = try JSONDecoder().decode(MailSendRequest.self, from: Data(#"{"personalizations":[{"to":[{"email":"a@x.test"}]}]}"#.utf8))
        let mixed = MailSendEndpoint.failure(
            [.recipient(message: 0, recipient: 0, .noSuchUser), .sender(message: 0, .senderNotAllowed(address: "a@b.test", account: "u"))],
            in: body, headers: [:])
        #expect(mixed.status == .forbidden && mixed.errors.map(\.field) == ["personalizations.0.to.0.email", "from.email"])
        let limit = UsageLimit(period: "day:0", limit: 100, perRecipient: true, resetsAt: 86400, name: "daily")
        let used = MailSendEndpoint.failure([.request(.limitReached(limit, account: "u"))], in: body, headers: [:])
        #expect(used.status == .tooManyRequests)
        #expect(used.headers[HTTPField.Name("X-RateLimit-Reset")!] == "86400" && used.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "0")
        let storage = MailSendEndpoint.failure([.request(.storageFailed)], in: body, headers: [:])
        #expect(storage.status == .serviceUnavailable && storage.headers[.retryAfter] == "60")
    }

    @Test func requestIDsAreSendGridShapedAndValidInAMessageID() throws {
        for _ in 0..<200 {
            let id = MailSendEndpoint.makeRequestID()
            #expect(id.count == 22)
            #expect(try MailboxAddress(parsing: "\(id).0@mx.example.test").localPart == "\(id).0")
        }
    }
}

/// A webhook transport that records what it was given and answers as told.
final class RecordingTransport: WebhookTransport, @unchecked Sendable {
    let lock = NSLock()
    var posts: [(url: String, body: [UInt8], headers: [(name: String, value: String)])] = []
    var answer: WebhookPostResult = .answered(status: 200)

    func post(url: String, body: [UInt8], headers: [(name: String, value: String)]) async -> WebhookPostResult {
        lock.withLock {
            posts.append((url, body, headers))
            return answer
        }
    }
}

@Suite struct WebhookURLTests {
    let zone = ZoneResolver(records: [
        DNSRecord(name: try! DNSName("hooks.example.com"), type: DNSRecordType.a.rawValue, ttl: 60, data: .a([93, 184, 216, 34])),
        DNSRecord(name: try! DNSName("rebind.example.com"), type: DNSRecordType.a.rawValue, ttl: 60, data: .a([127, 0, 0, 1])),
        DNSRecord(name: try! DNSName("inside.example.com"), type: DNSRecordType.a.rawValue, ttl: 60, data: .a([10, 1, 2, 3])),
    ])

    @Test func publicAddressesOnlyUnlessAllowed() async {
        #expect(await WebhookURL.check("https://hooks.example.com/in", resolver: zone, allowPrivate: false) == .success(WebhookURL(host: "hooks.example.com", address: "93.184.216.34")))
        #expect(await WebhookURL.check("http://rebind.example.com/", resolver: zone, allowPrivate: false) == .failure(.privateAddress(host: "rebind.example.com", address: "127.0.0.1")))
        #expect(await WebhookURL.check("http://inside.example.com/", resolver: zone, allowPrivate: false) == .failure(.privateAddress(host: "inside.example.com", address: "10.1.2.3")))
        #expect(await WebhookURL.check("http://127.0.0.1:9/x", resolver: zone, allowPrivate: false) == .failure(.privateAddress(host: "127.0.0.1", address: "127.0.0.1")))
        #expect(await WebhookURL.check("http://[::1]:9/x", resolver: zone, allowPrivate: false) == .failure(.privateAddress(host: "::1", address: "::1")))
        #expect(await WebhookURL.check("http://127.0.0.1:9/x", resolver: zone, allowPrivate: true) == .success(WebhookURL(host: "127.0.0.1", address: "127.0.0.1")))
        #expect(await WebhookURL.check("http://nowhere.example.com/", resolver: zone, allowPrivate: true) == .failure(.unresolvable("nowhere.example.com")))
        for bad in ["ftp://hooks.example.com/", "hooks.example.com/x", "http:///x", "http://user:pw@hooks.example.com/", "https://" + String(repeating: "a", count: 2100)] {
            #expect(await WebhookURL.check(bad, resolver: zone, allowPrivate: true) == .failure(.malformed), "\(bad)")
        }
    }
}

/// The unsubscribe page and its forms (RFC 8058 bodies as mail providers send them).
@Suite struct UnsubscribeFormTests {
    @Test func oneClickBodiesInBothEncodings() {
        #expect(UnsubscribeEndpoint.formFields("List-Unsubscribe=One-Click", contentType: "application/x-www-form-urlencoded")["List-Unsubscribe"] == "One-Click")
        #expect(UnsubscribeEndpoint.formFields("a=1&List-Unsubscribe=One%2DClick&b", contentType: "")["List-Unsubscribe"] == "One-Click")
        let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n"
        #expect(UnsubscribeEndpoint.formFields(multipart, contentType: "multipart/form-data; boundary=XyZ")["List-Unsubscribe"] == "One-Click")
        #expect(UnsubscribeEndpoint.formFields("List-Unsubscribe=Yes", contentType: "")["List-Unsubscribe"] == "Yes")
    }

    @Test func thePageEscapesEverythingItShows() {
        let group = SuppressionGroup(id: 3, account: "a@example.test", name: "<script>x</script>", description: "\"quoted\" & more", isDefault: false, createdAt: 0)
        let page = UnsubscribeEndpoint.render(
            EngagementRecorder.Subscription(email: "<b>@dest.test", account: "a@example.test", group: group, unsubscribed: false), token: "T-k_1",
            done: nil)
        #expect(!page.contains("<script>") && page.contains("&lt;script&gt;") && page.contains("&quot;quoted&quot; &amp; more"))
        #expect(page.contains("action=\"/u/T-k_1\"") && page.contains("name=\"List-Unsubscribe\" value=\"One-Click\""))
        let done = UnsubscribeEndpoint.render(
            EngagementRecorder.Subscription(email: "b@dest.test", account: "a@example.test", group: group, unsubscribed: true), token: "T", done: "You are unsubscribed.")
        #expect(done.contains("value=\"resubscribe\"") && !done.contains("One-Click"))
    }
}
