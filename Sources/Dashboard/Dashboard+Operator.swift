import Foundation
import Hummingbird
import MailCore
import MailService
import MailStore
import WebAPI

/// The operator's pages: the queue of every account, and users with their plans, quotas and
/// roles (split from Dashboard+Pages.swift by concern). Anyone else gets a 404 for them.
extension Dashboard {
    func registerOperatorPages(on router: Router<APIRequestContext>) {
        let dashboard = self
        router.get("/dashboard/queue") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.asOperator(session) { await dashboard.queuePage(session) } } }
        router.post("/dashboard/queue/:id/retry") { request, context in await dashboard.signedIn(request, context, form: true) { session, _ in
            await dashboard.asOperator(session) { await dashboard.retryQueued(context.parameters.get("id") ?? "", session) } } }
        router.post("/dashboard/queue/:id/remove") { request, context in await dashboard.signedIn(request, context, form: true) { session, _ in
            await dashboard.asOperator(session) { await dashboard.removeQueued(context.parameters.get("id") ?? "", session) } } }
        router.get("/dashboard/users") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.asOperator(session) { await dashboard.usersPage(session, notice: nil) } } }
        router.post("/dashboard/users") { request, context in await dashboard.signedIn(request, context, form: true) { session, form in
            await dashboard.asOperator(session) { await dashboard.addUser(form ?? FormBody([]), session) } } }
        router.get("/dashboard/health") { request, context in await dashboard.signedIn(request, context) { session, _ in
            await dashboard.asOperator(session) { await dashboard.healthPage(session) } } }
        for change in ["plan", "quota", "operator"] {
            router.post("/dashboard/users/\(change)") { request, context in await dashboard.signedIn(request, context, form: true) { session, form in
                await dashboard.asOperator(session) { await dashboard.changeUser(change, form ?? FormBody([]), session) } } }
        }
    }

    func asOperator(_ session: WebSession, _ page: () async -> Response) async -> Response {
        guard session.isOperator else { return problem(.notFound, "Not found", "There is no such page.", session: session) }
        return await page()
    }

    func queuePage(_ session: WebSession) async -> Response {
        guard let queue else { return problem(.notFound, "Not found", "There is no queue here.", session: session) }
        let pending = (try? await queue.pending()) ?? []
        let values: [String: Any] = [
            "more": pending.count >= QueueControl.maximumListed, "shown": pending.count,
            "rows": pending.map { row -> [String: Any] in
                [
                    "id": row.messageID, "account": row.account ?? false, "from": row.from.isEmpty ? "<>" : row.from, "to": row.recipient,
                    "state": row.state.rawValue, "attempts": row.attempts, "next": row.nextAttemptAt.map(Self.time) ?? "",
                    "reply": row.lastReply ?? "", "csrf": session.csrf,
                ]
            },
        ]
        return page("queue", values, title: "Queue", session: session, current: "queue")
    }

    func retryQueued(_ id: String, _ session: WebSession) async -> Response {
        guard let queue, id.utf8.count <= 64, (try? await queue.retry(id: id)) != nil else {
            return problem(.notFound, "Not retried", "There is no such message in the queue.", session: session)
        }
        return Self.redirect("/dashboard/queue")
    }

    func removeQueued(_ id: String, _ session: WebSession) async -> Response {
        guard let queue, id.utf8.count <= 64, (try? await queue.remove(id: id)) == true else {
            return problem(.notFound, "Not removed", "There is no such message in the queue.", session: session)
        }
        return Self.redirect("/dashboard/queue")
    }

    func usersPage(_ session: WebSession, notice: String?, status: HTTPResponse.Status = .ok) async -> Response {
        let users = (try? await administration.users()) ?? []
        let planNames = administration.planNames.sorted()
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        var values: [String: Any] = [
            "csrf": session.csrf, "planNames": planNames,
            "rows": users.enumerated().map { index, user -> [String: Any] in
                let usage = try? administration.mailboxUsage(user.address)
                return [
                    "index": index, "address": user.address, "isOperator": user.isOperator, "created": Self.time(user.createdAt), "csrf": session.csrf,
                    "plans": planNames.map { ["name": $0, "selected": $0 == user.plan] as [String: Any] },
                    "used": mib(usage?.bytes ?? 0), "quota": usage?.quota.map(mib) ?? false, "quotaMiB": (usage?.quota ?? 0) / 1_048_576,
                ]
            },
        ]
        if let notice { values["notice"] = notice }
        return page("users", values, title: "Users", session: session, current: "users", status: status)
    }

    func addUser(_ form: FormBody, _ session: WebSession) async -> Response {
        let address = (form["address"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            let added = try await administration.addUser(
                address, plan: form["plan"] ?? "free", password: form["password"] ?? "", isOperator: form["operator"] == "on")
            return await usersPage(session, notice: "Added \(added.address) on plan \(added.plan).", status: .created)
        } catch {
            return await usersPage(session, notice: "Not added: \(error)", status: .badRequest)
        }
    }

    func changeUser(_ change: String, _ form: FormBody, _ session: WebSession) async -> Response {
        let address = form["address"] ?? ""
        do {
            switch change {
            case "plan":
                try await administration.setPlan(address, plan: form["plan"] ?? "")
            case "quota":
                guard let mib = Int(form["mib"] ?? ""), (0...1_048_576).contains(mib) else { throw AdministrationError.invalid("quota: 0 to 1048576 MiB") }
                try await administration.setQuota(address, bytes: mib == 0 ? nil : mib * 1_048_576)
            default:
                let makeOperator = form["operator"] == "on"
                // An operator cannot take the role from themself here: that could leave no one.
                if !makeOperator, address.caseInsensitiveCompare(session.user) == .orderedSame {
                    throw AdministrationError.invalid("you cannot remove your own operator role; another operator can")
                }
                try await administration.setOperator(address, makeOperator)
            }
        } catch {
            return await usersPage(session, notice: "Not changed: \(error)", status: .badRequest)
        }
        return Self.redirect("/dashboard/users")
    }

    func healthPage(_ session: WebSession) async -> Response {
        guard let health else { return problem(.notFound, "Not found", "There is no health page here.", session: session) }
        let report = await health()
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        func gib(_ bytes: Int) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }
        let up = report.now - report.startedAt
        var values: [String: Any] = [
            "hostname": report.hostname, "started": Self.time(report.startedAt),
            "uptime": up >= 86400 ? "\(up / 86400) d \(up % 86400 / 3600) h" : up >= 3600 ? "\(up / 3600) h \(up % 3600 / 60) min" : "\(up / 60) min \(up % 60) s",
            "memory": report.residentBytes.map(mib) ?? "unknown",
            "listeners": report.listeners.map { ["service": $0.service, "address": $0.address, "tls": $0.tls] },
            "storePath": report.storePath, "storeSize": mib(report.storeBytes),
            "disk": report.diskFreeBytes.flatMap { free in report.diskTotalBytes.map { "\(gib(free)) free of \(gib($0))" } } ?? "unknown",
            "queue": [RecipientState.queued, .delivering, .deferred].map { ["state": $0.rawValue, "count": report.queue[$0] ?? 0] as [String: Any] },
            "oldestDue": report.oldestDueAt.map(Self.time) ?? "nothing waits",
            "webhookBacklog": report.webhookBacklog,
            "certificate": report.certificateExpiresAt.map { "expires \(Self.time($0))\(report.certificateSelfSigned ? " (self-signed)" : "")" } ?? "none",
            "warnings": report.warnings.map(\.message), "healthy": report.warnings.isEmpty,
        ]
        values["checked"] = Self.time(report.now)
        return page("health", values, title: "Health", session: session, current: "health")
    }
}
