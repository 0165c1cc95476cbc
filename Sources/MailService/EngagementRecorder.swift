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
        guard let token = TrackingToken(opening: token, with: tracking.key), token.kind == .click, !token.url.isEmpty else { return nil }
        let recipient = try? await store.trackedRecipient(sgMessageID: token.messageID)
        let machineClick = machine.isMachineClick(head: head, userAgent: userAgent, deliveredAt: recipient?.deliveredAt, now: clock())
        await record(
            "click", token,
            [
                "useragent": .string(userAgent), "ip": .string(address), "url": .string(token.url),
                "url_offset": .object(["index": .int(token.index), "type": .string("html")]), "machine": .bool(machineClick),
            ], recipient: recipient)
        ServiceMetrics.events("click", count: 1)
        return token.url
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
