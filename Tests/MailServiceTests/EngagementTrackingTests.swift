import Crypto
import Engagement
import Foundation
import MailCore
import MailService
import MailStore
import MailStoreSQLite
import NIOCore
import SendGridProtocol
import Testing

/// Open and click tracking from intake to the recorded event: a message per recipient whose
/// links name it, the plan charged once, tokens that open to what was sent, machine opens and
/// clicks flagged, forged tokens refused.
@Suite struct EngagementTrackingTests {
    struct Fixture {
        let store: SQLiteStore
        let intake: MessageIntake
        let recorder: EngagementRecorder
        let tracking: EngagementTracking
        let origin = MessageOrigin(clientAddress: "127.0.0.1", account: "alice@example.test", atMX: false)
    }

    static let now = 1_796_000_000

    func fresh(defaults: TrackingSettings = TrackingSettings()) async throws -> Fixture {
        let account = try await HostedAccount(prefix: "track")
        let store = account.store
        let tracking = EngagementTracking(publicURL: "https://t.example.test/", key: SymmetricKey(data: try await store.trackingKey()), defaults: defaults)
        var intake = MessageIntake(
            hostname: "mx.example.test", directory: store, queue: store, plans: ["free": PlanLimits(dailyMessages: 100)], clock: { Self.now },
            hasFreeSpace: { true })
        intake.tracking = tracking
        intake.suppressions = store
        let recorder = EngagementRecorder(
            store: store, tracking: tracking, machine: MachineEngagement(proxyNetworks: [NetworkRange("17.0.0.0/8")!]), clock: { Self.now + 60 })
        return Fixture(store: store, intake: intake, recorder: recorder, tracking: tracking)
    }

    static let html = "<html><body><p>Hi <a href=\"https://shop.test/p?id=1&amp;x=2\">buy</a> <a clicktracking=off href=\"https://shop.test/off\">no</a></p></body></html>"

    func submission(to: [String], tracking: TrackingSettings?) throws -> Submission {
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: try to.map { EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>")) })
        let content = "From: alice@example.test\r\nTo: \(to.joined(separator: ", "))\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\(Self.html)\r\n"
        var submission = Submission(envelope: envelope, content: ByteBuffer(string: content))
        submission.trackingSettings = tracking
        return submission
    }

    /// The first `https://t.example.test/t/KIND/TOKEN` in a stored message.
    func token(_ kind: String, in content: [UInt8]) -> String? {
        let text = String(decoding: content, as: UTF8.self)
        guard let range = text.range(of: "https://t.example.test/t/\(kind)/") else { return nil }
        return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func eachRecipientGetsItsOwnLinksAndThePlanIsChargedOnce() async throws {
        let f = try await fresh()
        let outcome = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test"], tracking: TrackingSettings(openTracking: true, clickTracking: true))],
            withProtocol: "HTTP", origin: f.origin, request: "REQ")
        guard case .accepted(let ids) = outcome else { Issue.record("refused: \(outcome)"); return }
        #expect(ids.count == 2)
        #expect(try f.store.usage(user: "alice@example.test", periods: ["day:1795996800"]) == ["day:1795996800": 2])
        for (position, address) in ["a@dest.test", "b@dest.test"].enumerated() {
            let queued = try #require(try await f.store.listQueue().first { $0.recipients.map(\.address) == [address] })
            let content = try #require(try await f.store.content(id: queued.id))
            let clickText = try #require(token("c", in: content))
            let click = try #require(TrackingToken(opening: clickText, with: f.tracking.key))
            #expect(click == TrackingToken(kind: .click, messageID: "REQ.\(position)", recipient: address, index: 0, url: "https://shop.test/p?id=1&x=2"))
            let openText = try #require(token("o", in: content))
            let open = try #require(TrackingToken(opening: openText, with: f.tracking.key))
            #expect(open.kind == .open && open.recipient == address)
            let text = String(decoding: content, as: UTF8.self)
            #expect(text.contains("href=\"https://shop.test/off\"") && !text.contains("https://shop.test/p?id"))
            #expect(text.contains("\tfor <\(address)>"))
        }
    }

    @Test func opensAndClicksAreRecordedForTheRecipient() async throws {
        let f = try await fresh(defaults: TrackingSettings(openTracking: true, clickTracking: true))
        // SMTP, no X-SMTPAPI: the account defaults apply.
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<a@dest.test>"))])
        let content = "From: alice@example.test\r\nTo: a@dest.test\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n\(Self.html)\r\n"
        let id = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            f.intake.accept(envelope, content: ByteBuffer(string: content), withProtocol: "ESMTPSA", origin: f.origin) { continuation.resume(with: $0) }
        }
        let stored = try #require(try await f.store.content(id: id))
        let open = try #require(token("o", in: stored))
        let click = try #require(token("c", in: stored))
        #expect(await f.recorder.open(token: open, userAgent: "Mozilla/5.0 (X11) Firefox/120", address: "198.51.100.7"))
        #expect(await f.recorder.open(token: open, userAgent: "Mozilla/5.0", address: "17.58.1.2"))
        #expect(await f.recorder.click(token: click, head: false, userAgent: "curl/8", address: "198.51.100.7") == "https://shop.test/p?id=1&x=2")
        #expect(await f.recorder.click(token: click, head: true, userAgent: "curl/8", address: "198.51.100.7") == "https://shop.test/p?id=1&x=2")
        let (_, events) = try #require(try await f.store.activity(account: "alice@example.test", sgMessageID: "\(id).0"))
        let engagement = events.filter { ["open", "click"].contains($0.type) }
        #expect(engagement.map(\.type) == ["open", "open", "click", "click"])
        let details = engagement.map { EventPayload.details(json: $0.details) }
        #expect(details[0]["sg_machine_open"] == .bool(false) && details[0]["useragent"] == .string("Mozilla/5.0 (X11) Firefox/120"))
        #expect(details[1]["sg_machine_open"] == .bool(true))
        #expect(details[2]["url"] == .string("https://shop.test/p?id=1&x=2") && details[2]["machine"] == .bool(false))
        #expect(details[3]["machine"] == .bool(true))
        // The webhook shape: SendGrid's fields, not the internal flag.
        let recipient = try #require(try await f.store.activity(account: "alice@example.test", sgMessageID: "\(id).0")).0
        var facts = EventFacts(engagement[2], of: recipient)
        let object = try #require(EventPayload.object(facts))
        #expect(object["event"] == .string("click") && object["url"] == .string("https://shop.test/p?id=1&x=2") && object["ip"] == .string("198.51.100.7"))
        #expect(object["url_offset"] == .object(["index": .int(0), "type": .string("html")]) && object["machine"] == nil)
        facts = EventFacts(engagement[1], of: recipient)
        #expect(EventPayload.object(facts)?["sg_machine_open"] == .bool(true))
        // Stats: every open and click counts; unique ones leave machines out.
        let day = (Self.now + 60) / 86400 * 86400
        let days = try await f.store.dailyEvents(account: "alice@example.test", from: day, to: day + 86400, category: nil)
        let metrics = StatsMetrics(counts: days[0].counts, bounceReplies: [], uniqueCounts: days[0].uniqueCounts)
        #expect(metrics.opens == 2 && metrics.uniqueOpens == 1 && metrics.clicks == 2 && metrics.uniqueClicks == 1)
        #expect(try await f.store.dailyEvents(account: "alice@example.test", from: day, to: day + 86400, category: "none").isEmpty)
        #expect(recipient.opens == 2 && recipient.clicks == 2)
    }

    @Test func forgedTokensAndOffSettingsRecordNothing() async throws {
        let f = try await fresh(defaults: TrackingSettings(openTracking: true, clickTracking: true))
        // A message that turns tracking off sends its HTML as written, to both in one message.
        let outcome = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test"], tracking: TrackingSettings(openTracking: false, clickTracking: false))],
            withProtocol: "HTTP", origin: f.origin, request: "R2")
        guard case .accepted(let ids) = outcome else { Issue.record("refused: \(outcome)"); return }
        #expect(ids.count == 1)
        let content = try #require(try await f.store.content(id: ids[0]))
        #expect(String(decoding: content, as: UTF8.self).contains(Self.html))
        // Tokens from another key, of another kind, or altered.
        let foreign = TrackingToken(kind: .click, messageID: "R2.0", recipient: "a@dest.test", url: "https://evil.test/").sealed(with: SymmetricKey(size: .bits256))
        #expect(await f.recorder.click(token: foreign, head: false, userAgent: "", address: "") == nil)
        let open = TrackingToken(kind: .open, messageID: "R2.0", recipient: "a@dest.test").sealed(with: f.tracking.key)
        #expect(await f.recorder.click(token: open, head: false, userAgent: "", address: "") == nil)
        // A valid token whose recipient does not match the row records nothing but still works.
        let mismatched = TrackingToken(kind: .click, messageID: "R2.0", recipient: "b@dest.test", url: "https://shop.test/").sealed(with: f.tracking.key)
        #expect(await f.recorder.click(token: mismatched, head: false, userAgent: "", address: "") == "https://shop.test/")
        let (_, events) = try #require(try await f.store.activity(account: "alice@example.test", sgMessageID: "R2.0"))
        #expect(!events.contains { $0.type == "click" })
    }

    @Test func groupMailCarriesOneClickUnsubscribeThatSuppressesAndRecords() async throws {
        var f = try await fresh()
        let group = try await f.store.addGroup(account: "alice@example.test", name: "Weekly <news>", description: "Once a week", isDefault: false, at: Self.now)
        var recorder = f.recorder
        recorder.suppressions = f.store
        f = Fixture(store: f.store, intake: f.intake, recorder: recorder, tracking: f.tracking)
        var submission = try submission(to: ["a@dest.test"], tracking: nil)
        submission.tags = MessageTags(asmGroupID: group.id)
        guard case .accepted(let ids) = await f.intake.submit([submission], withProtocol: "HTTP", origin: f.origin, request: "U1") else {
            Issue.record("refused")
            return
        }
        let content = String(decoding: try #require(try await f.store.content(id: ids[0])), as: UTF8.self)
        let header = try #require(content.components(separatedBy: "\r\n").first { $0.hasPrefix("List-Unsubscribe: <https://t.example.test/u/") })
        #expect(content.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        // No tracking asked for: the HTML is as sent.
        #expect(content.contains(Self.html))
        let token = String(header.dropFirst("List-Unsubscribe: <https://t.example.test/u/".count).dropLast())
        let before = try #require(await f.recorder.subscription(token: token))
        #expect(before.email == "a@dest.test" && before.group?.name == "Weekly <news>" && !before.unsubscribed)
        #expect(try #require(await f.recorder.unsubscribe(token: token)).unsubscribed)
        #expect(try #require(await f.recorder.unsubscribe(token: token)).unsubscribed)
        #expect(try await f.store.suppressedAddresses(account: "alice@example.test", addresses: ["a@dest.test"], group: group.id) == ["a@dest.test": .group])
        // The next message of that group to the address is dropped; mail of no group is not.
        guard case .accepted(let next) = await f.intake.submit([submission], withProtocol: "HTTP", origin: f.origin, request: "U2") else {
            Issue.record("refused")
            return
        }
        #expect(try await f.store.queuedMessage(id: next[0])?.recipients.first?.state == .dropped)
        #expect(try #require(await f.recorder.resubscribe(token: token)).unsubscribed == false)
        let (_, events) = try #require(try await f.store.activity(account: "alice@example.test", sgMessageID: "U1.0"))
        #expect(events.map(\.type).filter { $0.contains("subscribe") } == ["group_unsubscribe", "group_resubscribe"])
        // A token altered or of another kind is refused; an open token is not an unsubscribe.
        #expect(await f.recorder.unsubscribe(token: String(token.dropLast(2)) + "AA") == nil)
        #expect(await f.recorder.subscription(token: TrackingToken(kind: .open, messageID: "U1.0", recipient: "a@dest.test").sealed(with: f.tracking.key)) == nil)
    }

    @Test func feedbackLoopReportsSuppressAndRecordSpamReports() async throws {
        let f = try await fresh()
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"),
            recipients: try ["a@dest.test", "b@dest.test"].map { EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>")) })
        var submission = Submission(
            envelope: envelope,
            content: ByteBuffer(string: "From: alice@example.test\r\nTo: a@dest.test, b@dest.test\r\nMessage-ID: <orig-1@example.test>\r\nSubject: s\r\n\r\nhi\r\n"))
        submission.trackingSettings = TrackingSettings(clickTracking: true)
        guard case .accepted = await f.intake.submit([submission], withProtocol: "HTTP", origin: f.origin, request: "F1") else {
            Issue.record("refused")
            return
        }
        let loop = FeedbackLoop(address: "Abuse@Example.test", store: f.store, suppressions: f.store, clock: { Self.now + 100 })
        func report(recipient: String?, messageID: String = "<orig-1@example.test>", to: String = "a@dest.test, b@dest.test") -> [UInt8] {
            var text = "From: fbl@isp.test\r\nTo: abuse@example.test\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
            text += "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nspam\r\n"
            text += "--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: ISP/1\r\nVersion: 1\r\n"
            if let recipient { text += "Original-Rcpt-To: <\(recipient)>\r\n" }
            text += "\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: alice@example.test\r\nTo: \(to)\r\nMessage-ID: \(messageID)\r\n\r\n--b--\r\n"
            return Array(text.utf8)
        }
        #expect(loop.isAddressed(Envelope(reversePath: .null, recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<abuse@example.test>"))])))
        // Which recipient: Original-Rcpt-To; with two recipients and none named, nothing.
        #expect(await loop.handle(report(recipient: nil)) == nil)
        #expect(await loop.handle(report(recipient: nil, messageID: "<other@example.test>", to: "a@dest.test")) == nil)
        #expect(await loop.handle(report(recipient: "nobody@dest.test", to: "x@dest.test, y@dest.test")) == nil)
        let found = try #require(await loop.handle(report(recipient: "B@dest.test")))
        #expect(found.address == "b@dest.test" && found.account == "alice@example.test")
        #expect(try await f.store.suppressedAddresses(account: "alice@example.test", addresses: ["b@dest.test", "a@dest.test"], group: nil) == ["b@dest.test": .spamReports])
        let (_, events) = try #require(try await f.store.activity(account: "alice@example.test", sgMessageID: "F1.1"))
        #expect(events.contains { $0.type == "spamreport" && $0.at == Self.now + 100 })
        #expect(EventPayload.eventName("spamreport") == "spamreport")
        // Not a report at all.
        #expect(await loop.handle(Array("Subject: hi\r\n\r\nhello\r\n".utf8)) == nil)
    }

    @Test func subscriptionTrackingAddsTheFooterAndListUnsubscribe() async throws {
        let f = try await fresh()
        let envelope = Envelope(
            reversePath: try ReversePath(parsing: "<alice@example.test>"), recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<a@dest.test>"))])
        var submission = Submission(
            envelope: envelope, content: ByteBuffer(string: "From: alice@example.test\r\nTo: a@dest.test\r\nSubject: s\r\n\r\nNews of the week.\r\n"))
        submission.trackingSettings = TrackingSettings(subscriptionTracking: true, subscriptionText: "Stop: <% %>")
        guard case .accepted(let ids) = await f.intake.submit([submission], withProtocol: "HTTP", origin: f.origin, request: "S1") else {
            Issue.record("refused")
            return
        }
        let content = String(decoding: try #require(try await f.store.content(id: ids[0])), as: UTF8.self)
        let header = try #require(content.components(separatedBy: "\r\n").first { $0.hasPrefix("List-Unsubscribe: <") })
        let url = String(header.dropFirst("List-Unsubscribe: <".count).dropLast())
        #expect(content.hasSuffix("News of the week.\r\n\r\nStop: \(url)\r\n"))
        let token = try #require(url.components(separatedBy: "/u/").last)
        let subscription = try #require(await f.recorder.subscription(token: token))
        #expect(subscription.group == nil && subscription.email == "a@dest.test")
    }

    @Test func mailtoUnsubscribeThroughTheMX() async throws {
        var f = try await fresh()
        var tracking = f.tracking
        tracking.unsubscribeMailbox = "unsubscribe@example.test"
        var intake = f.intake
        intake.tracking = tracking
        var recorder = f.recorder
        recorder.suppressions = f.store
        f = Fixture(store: f.store, intake: intake, recorder: recorder, tracking: tracking)
        var submission = try submission(to: ["a@dest.test"], tracking: TrackingSettings(subscriptionTracking: true))
        submission.trackingSettings = TrackingSettings(subscriptionTracking: true)
        guard case .accepted(let ids) = await f.intake.submit([submission], withProtocol: "HTTP", origin: f.origin, request: "M1") else {
            Issue.record("refused")
            return
        }
        let content = try #require(try await f.store.content(id: ids[0]))
        let field = try #require(content.withUnsafeBytes { HeaderFields.firstValue(named: "List-Unsubscribe", in: $0) })
        let mailto = try #require(field.range(of: "<mailto:unsubscribe@example.test?subject=unsubscribe%20"))
        let token = String(field[mailto.upperBound...].prefix { $0 != ">" })
        #expect(field.hasPrefix("<https://t.example.test/u/\(token)>,"))
        let hook = UnsubscribeByMail(address: "Unsubscribe@example.test", recorder: f.recorder)
        #expect(hook.isAddressed(Envelope(reversePath: .null, recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<unsubscribe@example.test>"))])))
        #expect(await hook.unsubscribe(Array("From: a@dest.test\r\nSubject: Re: unsubscribe forged-token-xxxxxxxxxxxxxxxx\r\n\r\n".utf8)) == nil)
        let done = try #require(await hook.unsubscribe(Array("From: a@dest.test\r\nSubject: Re: unsubscribe \(token)\r\n\r\nplease\r\n".utf8)))
        #expect(done.unsubscribed && done.group == nil)
        #expect(try await f.store.suppressedAddresses(account: "alice@example.test", addresses: ["a@dest.test"], group: nil) == ["a@dest.test": .unsubscribes])
    }

    @Test func anAccountsOwnDefaultsApplyUnlessTheMessageSaysOtherwise() async throws {
        var f = try await fresh()
        let preferences = TrackingPreferences(store: f.store, serverDefaults: TrackingSettings(openTracking: false))
        var intake = f.intake
        intake.trackingPreferences = preferences
        f = Fixture(store: f.store, intake: intake, recorder: f.recorder, tracking: f.tracking)
        #expect(preferences.settings(account: "alice@example.test").tracksOpens == false)
        let updated = try await preferences.update(account: "alice@example.test") { $0.openTracking = true }
        #expect(updated.tracksOpens && !updated.tracksClicks && preferences.own(account: "alice@example.test") == TrackingSettings(openTracking: true))
        for (settings, tracked) in [(nil, true), (TrackingSettings(openTracking: false), false)] as [(TrackingSettings?, Bool)] {
            guard case .accepted(let ids) = await f.intake.submit([try submission(to: ["a@dest.test"], tracking: settings)], withProtocol: "HTTP", origin: f.origin, request: nil)
            else {
                Issue.record("refused")
                return
            }
            let content = try #require(try await f.store.content(id: ids[0]))
            #expect((token("o", in: content) != nil) == tracked)
        }
    }

    @Test func trackedCopiesAreBoundedInMemory() async throws {
        var f = try await fresh()
        var intake = f.intake
        intake.maximumTrackedBytes = 500
        f = Fixture(store: f.store, intake: intake, recorder: f.recorder, tracking: f.tracking)
        let outcome = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test", "c@dest.test"], tracking: TrackingSettings(clickTracking: true))],
            withProtocol: "HTTP", origin: f.origin, request: nil)
        #expect(outcome == .refused([.content(message: 0, .trackedCopiesTooLarge(maximum: 500))]))
        #expect(try await f.store.listQueue().isEmpty)
        // Untracked, the same message is one copy and goes.
        let plain = await f.intake.submit(
            [try submission(to: ["a@dest.test", "b@dest.test", "c@dest.test"], tracking: TrackingSettings(clickTracking: false))],
            withProtocol: "HTTP", origin: f.origin, request: nil)
        guard case .accepted(let ids) = plain else { Issue.record("refused: \(plain)"); return }
        #expect(ids.count == 1)
    }

    @Test func smtpFiltersTurnTrackingOn() {
        let header = SMTPAPIHeader(value: #"{"filters": {"opentrack": {"settings": {"enable": 1, "replace": "%open%"}}, "clicktrack": {"settings": {"enable": "1", "enable_text": true}}}}"#)
        #expect(header?.tracking == TrackingSettings(openTracking: true, openSubstitutionTag: "%open%", clickTracking: true, clickTrackingText: true))
        let api = TrackingSettings(json: .object(["open_tracking": .object(["enable": .bool(false)]), "click_tracking": .object(["enable": .bool(true)])]))
        #expect(api.over(TrackingSettings(openTracking: true, clickTrackingText: true)) == TrackingSettings(openTracking: false, clickTracking: true, clickTrackingText: true))
    }
}
