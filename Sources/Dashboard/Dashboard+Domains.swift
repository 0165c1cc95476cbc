import DNSClient
import Foundation
import HTTPTypes
import Hummingbird
import MailCore
import MailService
import MailStore
import NIOCore
import WebAPI

/// Hosted domains: the records to publish (with copy buttons), a live check of what DNS
/// answers (`DomainCheck`, as `tern domain check`), the DKIM keys and, for operators, rotation.
/// An account sees its own domain; operators see every one.
extension Dashboard {
    func registerDomainPages(on router: Router<APIRequestContext>) {
        let dashboard = self
        router.get("/dashboard/copy.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardTemplates.copyScript)))
        }
        router.get("/dashboard/domains") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.domainsPage(session) } }
        router.get("/dashboard/domains/:name") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.domainPage(context.parameters.get("name") ?? "", check: request.uri.queryParameters["check"] == "1", session) } }
        router.post("/dashboard/domains/:name/rotate") { request, context in await dashboard.signedIn(request, context, form: true) { session, _ in
            await dashboard.asOperator(session) { await dashboard.rotate(context.parameters.get("name") ?? "", session) } } }
    }

    /// The domains `session` may look at.
    func visibleDomains(_ session: WebSession) async -> [String] {
        let all = ((try? await administration.domains()) ?? []).map(\.name)
        if session.isOperator { return all }
        let own = session.user.split(separator: "@").last.map { String($0).lowercased() } ?? ""
        return all.filter { $0 == own }
    }

    func domainsPage(_ session: WebSession) async -> Response {
        let names = await visibleDomains(session)
        return page("domains", ["domains": names.map { ["name": $0] }], title: "Domains", session: session, current: "domains")
    }

    func domainPage(_ name: String, check: Bool, _ session: WebSession) async -> Response {
        let wanted = name.lowercased()
        guard wanted.utf8.count <= 253, await visibleDomains(session).contains(wanted),
            let records = try? await administration.records(domain: wanted)
        else {
            return problem(.notFound, "No such domain", "There is no hosted domain by this name that you may see.", session: session)
        }
        let keys = (try? await administration.dkimKeys(domain: wanted)) ?? []
        var values: [String: Any] = [
            "name": wanted, "csrf": session.csrf, "isOperator": session.isOperator,
            "records": records.map { ["name": $0.name, "type": $0.type, "value": $0.value, "note": $0.note ?? false] as [String: Any] },
            "keys": keys.map {
                ["selector": $0.selector, "algorithm": $0.algorithm, "state": $0.state == .active ? "signing" : "retired", "created": Self.time($0.createdAt)]
                    as [String: Any]
            },
        ]
        if check, let resolver {
            let findings = await DomainCheck.run(domain: wanted, hostname: administration.hostname, resolver: resolver, keys: keys)
            values["findings"] = ["rows": findings.map { ["record": $0.record, "ok": $0.ok, "detail": $0.detail] as [String: Any] }]
        }
        return page("domain", values, title: wanted, session: session, current: "domains", scriptsSelf: true)
    }

    func rotate(_ name: String, _ session: WebSession) async -> Response {
        do {
            try await administration.rotateDKIM(domain: name)
        } catch {
            return problem(.badRequest, "Not rotated", "\(error)", session: session)
        }
        return Self.redirect("/dashboard/domains/\(name.lowercased())")
    }
}
