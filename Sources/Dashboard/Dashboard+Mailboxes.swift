import Foundation
import HTTPTypes
import Hummingbird
import MailCore
import MailService
import MailStore
import NIOCore

/// The suppression lists and the sandbox inbox (split from Dashboard+Pages.swift by concern).
extension Dashboard {
    /// Entries one suppressions page shows, at most.
    static let maximumSuppressionRows = 500
    /// The global lists; each unsubscribe group is a list too (`group-ID`).
    static let suppressionLists: [SuppressionList] = [.bounces, .blocks, .spamReports, .invalidEmails, .unsubscribes]

    /// A list the page shows: a global one, or an unsubscribe group by id.
    enum SuppressionChoice: Hashable {
        case global(SuppressionList)
        case group(Int)

        init?(_ text: String) {
            if let list = SuppressionList(rawValue: text), Dashboard.suppressionLists.contains(list) {
                self = .global(list)
            } else if text.hasPrefix("group-"), let id = Int(text.dropFirst(6)), id > 0 {
                self = .group(id)
            } else {
                return nil
            }
        }

        var value: String {
            switch self {
            case .global(let list): list.rawValue
            case .group(let id): "group-\(id)"
            }
        }

        var list: SuppressionList {
            if case .global(let list) = self { return list }
            return .group
        }

        var group: Int {
            if case .group(let id) = self { return id }
            return 0
        }
    }

    func suppressionsPage(_ request: Request, _ session: WebSession) async -> Response {
        let query = request.uri.queryParameters
        let groups = (try? await administration.suppressionGroups(of: session.user)) ?? []
        let choice = query["list"].flatMap { SuppressionChoice(String($0)) }.flatMap { choice -> SuppressionChoice? in
            // A group must be one of the account's own: another account's id shows nothing.
            if case .group(let id) = choice, !groups.contains(where: { $0.id == id }) { return nil }
            return choice
        } ?? .global(.bounces)
        let needle = String((query["q"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces).prefix(254)).lowercased()
        let all = (try? await administration.suppressions(of: session.user, list: choice.list, group: choice.group)) ?? []
        let matching = needle.isEmpty ? all : all.filter { $0.email.contains(needle) }
        let shown = matching.prefix(Self.maximumSuppressionRows)
        let lists: [[String: Any]] =
            Self.suppressionLists.map { ["value": $0.rawValue, "label": $0.rawValue.replacingOccurrences(of: "_", with: " "), "selected": choice == .global($0)] }
            + groups.map { ["value": "group-\($0.id)", "label": "unsubscribe group: \($0.name)", "selected": choice == .group($0.id)] }
        let values: [String: Any] = [
            "lists": lists, "q": needle,
            "entries": shown.map { entry -> [String: Any] in
                ["email": entry.email, "created": Self.time(entry.createdAt), "reason": entry.reason ?? "", "list": choice.value, "csrf": session.csrf]
            },
            "more": matching.count > shown.count, "shown": shown.count, "total": matching.count,
        ]
        return page("suppressions", values, title: "Suppressions", session: session, current: "suppressions")
    }

    func removeSuppression(_ form: FormBody, _ session: WebSession) async -> Response {
        guard let choice = form["list"].flatMap(SuppressionChoice.init), let email = form["email"] else {
            return problem(.badRequest, "Not removed", "The form named no list or address.", session: session)
        }
        do {
            // A group id of another account removes nothing: the store is asked for this account's.
            try await administration.unsuppress(email, for: session.user, list: choice.list, group: choice.group)
        } catch {
            return problem(.notFound, "Not removed", "\(email) is not on that list of yours.", session: session)
        }
        var location = URLComponents()
        location.path = "/dashboard/suppressions"
        location.queryItems = [URLQueryItem(name: "list", value: choice.value)]
        return Self.redirect(location.string ?? "/dashboard/suppressions")
    }

    func sandboxPage(_ session: WebSession) async -> Response {
        let messages = (try? await administration.sandboxMessages(of: session.user)) ?? []
        let values: [String: Any] = [
            "size": sandboxInboxSize,
            "messages": messages.map { message -> [String: Any] in
                [
                    "time": Self.time(message.createdAt), "to": message.recipients.joined(separator: ", "), "id": message.id,
                    "subject": message.subject.map { $0.isEmpty ? "(no subject)" : $0 } ?? "(no subject)", "size": message.size,
                ]
            },
        ]
        return page("sandbox", values, title: "Sandbox inbox", session: session, current: "sandbox")
    }

    /// A captured message, what Mailpit shows a developer: its HTML in a sandboxed frame, its
    /// text, header, authentication results and source. Another account's id is a 404.
    func sandboxMessagePage(_ id: String, _ session: WebSession) async -> Response {
        guard let bytes = await sandboxBytes(id, session),
            let summary = (try? await administration.sandboxMessages(of: session.user))?.first(where: { $0.id == id })
        else {
            return problem(.notFound, "No such message", "There is no message with this id in your sandbox inbox.", session: session)
        }
        let message = MessageSource(bytes)
        let parts = ReadableParts(message: message.shown)
        var values: [String: Any] = [
            "id": id, "subject": summary.subject ?? "(no subject)", "from": summary.from, "to": summary.recipients.joined(separator: ", "),
            "time": Self.time(summary.createdAt),
        ]
        message.add(to: &values)
        if parts.html != nil { values["html"] = true }
        if let plain = parts.text { values["text"] = plain }
        return page("sandboxMessage", values, title: summary.subject ?? "Sandbox message", session: session, current: "sandbox", framesSelf: true)
    }

    /// The HTML part alone, for the frame. Served as a sandbox (CSP `sandbox`: an opaque
    /// origin, no script, no forms, no navigation of the dashboard) that may load nothing but
    /// inline styles and `data:` images, so a message's HTML can neither run in the dashboard's
    /// origin nor tell its sender it was opened.
    func sandboxHTML(_ id: String, _ session: WebSession) async -> Response {
        guard let bytes = await sandboxBytes(id, session), let html = ReadableParts(message: Array(bytes.prefix(MessageSource.maximumBytes))).html else {
            return problem(.notFound, "No such message", "There is no HTML part here.", session: session)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func sandboxBytes(_ id: String, _ session: WebSession) async -> [UInt8]? {
        guard id.utf8.count <= 64 else { return nil }
        return try? await administration.sandboxContent(of: session.user, id: id)
    }
}
