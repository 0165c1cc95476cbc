import Foundation
import HTTPTypes
import Hummingbird
import MailCore
import MailService
import NIOCore

/// The unsubscribe link of `List-Unsubscribe` (RFC 8058, RFC 2369) at `/u/{token}`:
/// `POST` with `List-Unsubscribe=One-Click` (urlencoded or multipart, no cookie, no key)
/// unsubscribes at once; `GET` only shows a page whose button posts the same, and for a group
/// the recipient's preference with a resubscribe button. A GET never unsubscribes: mail
/// scanners fetch links. A token that does not verify is a 404.
struct UnsubscribeEndpoint {
    let recorder: EngagementRecorder

    /// A form is a few dozen bytes; anything larger is not one.
    static let bodyLimit = 8 * 1024

    func register(on router: Router<APIRequestContext>) {
        router.get("/u/:token") { _, context in try await page(context) }
        router.post("/u/:token") { request, context in try await post(request, context) }
    }

    func page(_ context: APIRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let subscription = await recorder.subscription(token: token) else { throw APIFailure.notFound }
        return Self.html(Self.render(subscription, token: token, done: nil, groups: await otherGroups(token, subscription)))
    }

    /// The account's other groups, for the preferences list (only on a group link).
    func otherGroups(_ token: String, _ subscription: EngagementRecorder.Subscription) async -> [EngagementRecorder.Subscription] {
        guard let group = subscription.group else { return [] }
        return await recorder.groups(token: token).filter { $0.group?.id != group.id }
    }

    func post(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let body = try await BodyReader.bytes(of: request, limit: Self.bodyLimit)
        let form = Self.formFields(String(buffer: body), contentType: request.headers[.contentType] ?? "")
        let outcome: EngagementRecorder.Subscription?
        // The page's per-group buttons name a group; one-click never does.
        let group = form["group"].flatMap { Int($0) }
        if form["List-Unsubscribe"] == "One-Click" {
            outcome = await recorder.unsubscribe(token: token, group: group)
        } else if form["action"] == "resubscribe" {
            outcome = await recorder.resubscribe(token: token, group: group)
        } else {
            // Neither form: refused, with nothing changed (a bare POST is not consent).
            guard await recorder.subscription(token: token) != nil else { throw APIFailure.notFound }
            throw APIFailure(.badRequest, "expected List-Unsubscribe=One-Click")
        }
        guard let outcome else { throw APIFailure.notFound }
        // The page goes on showing the link's own group first.
        let shown = group == nil ? outcome : (await recorder.subscription(token: token) ?? outcome)
        return Self.html(
            Self.render(
                shown, token: token, done: outcome.unsubscribed ? "You are unsubscribed." : "You are subscribed again.",
                groups: await otherGroups(token, shown)))
    }

    static func html(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The page: what the link is for, and one button (unsubscribe, or resubscribe to a group).
    static func render(
        _ subscription: EngagementRecorder.Subscription, token: String, done: String?, groups: [EngagementRecorder.Subscription] = []
    ) -> String {
        let what = subscription.group.map { "“\(escape($0.name))” mail" } ?? "mail from this sender"
        var text = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Unsubscribe</title><style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
            button{font-size:1rem;padding:.5rem 1rem}</style></head><body><main>
            <h1>Unsubscribe</h1>

            """
        if let done { text += "<p role=\"status\">\(escape(done))</p>\n" }
        if let group = subscription.group, !group.description.isEmpty { text += "<p>\(escape(group.description))</p>\n" }
        let action = "/u/" + escape(token)
        if subscription.unsubscribed {
            text += "<p>\(escape(subscription.email)) no longer gets \(what).</p>\n"
            if subscription.group != nil {
                text += "<form method=\"post\" action=\"\(action)\"><input type=\"hidden\" name=\"action\" value=\"resubscribe\">"
                text += "<button type=\"submit\">Subscribe again</button></form>\n"
            }
        } else {
            text += "<p>Stop sending \(what) to \(escape(subscription.email))?</p>\n"
            text += "<form method=\"post\" action=\"\(action)\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
            text += "<button type=\"submit\">Unsubscribe</button></form>\n"
        }
        if !groups.isEmpty {
            // The recipient's preferences for the sender's other kinds of mail.
            text += "<h2>Other mail from this sender</h2>\n<ul>\n"
            for other in groups {
                guard let group = other.group else { continue }
                text += "<li>\(escape(group.name)): \(other.unsubscribed ? "unsubscribed" : "subscribed") "
                text += "<form method=\"post\" action=\"\(action)\" style=\"display:inline\"><input type=\"hidden\" name=\"group\" value=\"\(group.id)\">"
                text += other.unsubscribed
                    ? "<input type=\"hidden\" name=\"action\" value=\"resubscribe\"><button type=\"submit\">Subscribe</button>"
                    : "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\"><button type=\"submit\">Unsubscribe</button>"
                text += "</form></li>\n"
            }
            text += "</ul>\n"
        }
        return text + "</main></body></html>\n"
    }

    static func escape(_ text: String) -> String { HTMLText.escaped(text) }

    /// Fields of an `application/x-www-form-urlencoded` or `multipart/form-data` body (only the
    /// small text fields these forms have).
    static func formFields(_ body: String, contentType: String) -> [String: String] {
        var fields: [String: String] = [:]
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            // Each part: `Content-Disposition: form-data; name="X"`, an empty line, the value.
            guard let boundary = contentType.range(of: "boundary=").map({ contentType[$0.upperBound...].trimmingCharacters(in: ["\""]) }),
                !boundary.isEmpty
            else { return fields }
            for part in body.components(separatedBy: "--" + boundary) {
                guard let nameRange = part.range(of: "name=\""), let end = part[nameRange.upperBound...].firstIndex(of: "\""),
                    let blank = part.range(of: "\r\n\r\n")
                else { continue }
                let name = String(part[nameRange.upperBound..<end])
                var value = String(part[blank.upperBound...])
                // "\r\n" is one Character in Swift.
                while value.hasSuffix("\r\n") || value.hasSuffix("\n") { value.removeLast() }
                fields[name] = value
            }
            return fields
        }
        for pair in FormBody(Array(body.utf8)).pairs { fields[pair.name] = pair.value }
        return fields
    }
}
