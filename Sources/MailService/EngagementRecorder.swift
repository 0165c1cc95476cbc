import Engagement
import Foundation
import MailCore
import MailStore
import SendGridProtocol

/// Opens and clicks, as the tracking URLs report them: the token is checked, the recipient it
/// names gets an `open` or `click` event (with user agent, IP, URL and whether a machine made
/// it), and a click answers with the link's own URL. A token that does not verify is refused;
/// one whose message is gone still redirects (tokens outlive pruned rows), recording nothing.
public struct EngagementRecorder: Sendable {
    let store: any EngagementRepository
    let tracking: EngagementTracking
    let machine: MachineEngagement
    let clock: @Sendable () -> Int
    /// The accounts' suppression lists, for unsubscribe links; nil handles none.
    public var suppressions: (any SuppressionRepository)?

    public init(
        store: any EngagementRepository, tracking: EngagementTracking, machine: MachineEngagement,
        clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }
    ) {
        self.store = store
        self.tracking = tracking
        self.machine = machine
        self.clock = clock
    }

    /// Records an open; false when the token is not an open token of this server.
    public func open(token: String, userAgent: String, address: String) async -> Bool {
        guard let token = TrackingToken(opening: token, with: tracking.key), token.kind == .open else { return false }
        let machineOpen = machine.isMachineOpen(userAgent: userAgent, address: address)
        await record("open", token, ["useragent": .string(userAgent), "ip": .string(address), "sg_machine_open": .bool(machineOpen)])
        ServiceMetrics.events("open", count: 1)
        return true
    }

    /// Records a click and answers the URL to send the browser to; nil for a bad token.
    public func click(token: String, head: Bool, userAgent: String, address: String) async -> String? {
        guard let token = TrackingToken(opening: token, with: tracking.key), token.kind == .click || token.kind == .textClick, !token.url.isEmpty
        else { return nil }
        let recipient = try? await store.trackedRecipient(sgMessageID: token.messageID)
        let machineClick = machine.isMachineClick(head: head, userAgent: userAgent, deliveredAt: recipient?.deliveredAt, now: clock())
        await record(
            "click", token,
            [
                "useragent": .string(userAgent), "ip": .string(address), "url": .string(token.url),
                "url_offset": .object(["index": .int(token.index), "type": .string(token.kind == .textClick ? "text" : "html")]),
                "machine": .bool(machineClick),
            ], recipient: recipient)
        ServiceMetrics.events("click", count: 1)
        return token.url
    }

    /// What an unsubscribe link names: the recipient, the account, the group (nil: all of the
    /// account's mail) with its name, and whether the address is on that list now.
    public struct Subscription: Sendable, Equatable {
        public var email: String
        public var account: String
        public var group: SuppressionGroup?
        public var unsubscribed: Bool

        public init(email: String, account: String, group: SuppressionGroup?, unsubscribed: Bool) {
            self.email = email
            self.account = account
            self.group = group
            self.unsubscribed = unsubscribed
        }
    }

    /// The subscription an unsubscribe token names, or nil for a bad token (or a group that
    /// no longer exists). `group` picks another group of the same account (the page lets the
    /// recipient manage each).
    public func subscription(token text: String, group groupID: Int? = nil) async -> Subscription? {
        guard let token = TrackingToken(opening: text, with: tracking.key), token.kind == .unsubscribe, !token.url.isEmpty else { return nil }
        var group: SuppressionGroup?
        if let id = groupID ?? (token.index > 0 ? token.index : nil) {
            guard let found = try? await suppressions?.groups(account: token.url).first(where: { $0.id == id }) else { return nil }
            group = found
        }
        return await state(email: token.recipient, account: token.url, group: group)
    }

    /// Every group of the account the token's recipient may manage, with its state.
    public func groups(token text: String) async -> [Subscription] {
        guard let token = TrackingToken(opening: text, with: tracking.key), token.kind == .unsubscribe, !token.url.isEmpty,
            let groups = try? await suppressions?.groups(account: token.url)
        else { return [] }
        var states: [Subscription] = []
        for group in groups { states.append(await state(email: token.recipient, account: token.url, group: group)) }
        return states
    }

    func state(email: String, account: String, group: SuppressionGroup?) async -> Subscription {
        let list: SuppressionList = group == nil ? .unsubscribes : .group
        let current = try? await suppressions?.suppressedAddresses(account: account, addresses: [email.lowercased()], group: group?.id)
        let unsubscribed = current?[email.lowercased()].map { $0 == list || (list == .group && $0 == .unsubscribes) } ?? false
        return Subscription(email: email, account: account, group: group, unsubscribed: unsubscribed)
    }

    /// One-click unsubscribe (RFC 8058) or the page's button: the address goes on the group's
    /// list (or the account's unsubscribes) at once, and an `unsubscribe` or
    /// `group_unsubscribe` event is recorded. nil for a bad token.
    public func unsubscribe(token text: String, group groupID: Int? = nil) async -> Subscription? {
        guard var subscription = await subscription(token: text, group: groupID), let token = TrackingToken(opening: text, with: tracking.key),
            let suppressions
        else { return nil }
        let entry = Suppression(
            account: subscription.account, list: subscription.group == nil ? .unsubscribes : .group, groupID: subscription.group?.id ?? 0,
            email: subscription.email, createdAt: clock())
        guard (try? await suppressions.addSuppressions([entry])) != nil else { return nil }
        if !subscription.unsubscribed {
            await record(subscription.group == nil ? "unsubscribe" : "group_unsubscribe", token, Self.groupDetails(subscription.group))
        }
        subscription.unsubscribed = true
        return subscription
    }

    /// Back on a group's list (`group_resubscribe`); nil for a bad token or one without a group.
    public func resubscribe(token text: String, group groupID: Int? = nil) async -> Subscription? {
        guard var subscription = await subscription(token: text, group: groupID), let group = subscription.group,
            let token = TrackingToken(opening: text, with: tracking.key), let suppressions
        else { return nil }
        let removed = (try? await suppressions.removeSuppressions(account: subscription.account, list: .group, groupID: group.id, emails: [subscription.email])) ?? 0
        if removed > 0 { await record("group_resubscribe", token, Self.groupDetails(group)) }
        subscription.unsubscribed = false
        return subscription
    }

    /// The group an unsubscribe event is about (it may differ from the message's own group).
    static func groupDetails(_ group: SuppressionGroup?) -> [String: JSONValue] {
        group.map { ["asm_group_id": .int($0.id)] } ?? [:]
    }

    func record(_ type: String, _ token: TrackingToken, _ details: [String: JSONValue], recipient known: TrackedRecipient?? = nil) async {
        let found: TrackedRecipient?
        if let known { found = known } else { found = try? await store.trackedRecipient(sgMessageID: token.messageID) }
        // The token names the recipient too: both must agree before anything is recorded.
        guard let recipient = found, recipient.address.lowercased() == token.recipient.lowercased() else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = (try? encoder.encode(details)).map { String(decoding: $0, as: UTF8.self) }
        try? await store.recordEngagement(type, for: recipient, at: clock(), details: text)
    }
}
