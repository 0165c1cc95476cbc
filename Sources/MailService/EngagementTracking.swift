import Crypto
import Engagement
import MailCore
import SendGridProtocol

/// Open and click tracking of accounts' mail (SendGrid's `open_tracking` and
/// `click_tracking`): where the links point (`[http] public_url`), the key their tokens are
/// signed with, and the defaults a message's own settings override.
public struct EngagementTracking: Sendable {
    /// `https://host[:port]` without a trailing slash.
    public var publicURL: String
    public var key: SymmetricKey
    public var defaults: TrackingSettings
    /// The address of List-Unsubscribe's `mailto:` (RFC 2369); nil gives only the https URL.
    public var unsubscribeMailbox: String?

    public init(publicURL: String, key: SymmetricKey, defaults: TrackingSettings = TrackingSettings()) {
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.key = key
        self.defaults = defaults
    }

    /// The open pixel's URL for one recipient of one message.
    public func openURL(sgMessageID: String, recipient: String) -> String {
        "\(publicURL)/t/o/" + TrackingToken(kind: .open, messageID: sgMessageID, recipient: recipient).sealed(with: key)
    }

    /// The URL a tracked link becomes (`text`: a link of a text/plain part).
    public func clickURL(sgMessageID: String, recipient: String, index: Int, url: String, text: Bool = false) -> String {
        "\(publicURL)/t/c/"
            + TrackingToken(kind: text ? .textClick : .click, messageID: sgMessageID, recipient: recipient, index: index, url: url).sealed(with: key)
    }

    /// The one-click unsubscribe URL (RFC 8058) of one recipient: from `group` (an unsubscribe
    /// group, SendGrid's `asm_group_id`) or, without one, from all of the account's mail. The
    /// token carries the account, so the link works after the message is pruned.
    public func unsubscribeURL(sgMessageID: String, recipient: String, account: String, group: Int?) -> String {
        "\(publicURL)/u/"
            + TrackingToken(kind: .unsubscribe, messageID: sgMessageID, recipient: recipient, index: group ?? 0, url: account).sealed(with: key)
    }

    /// `message` with the links, pixel and List-Unsubscribe of one recipient, before it is signed.
    public func apply(
        to message: [UInt8], settings: TrackingSettings, sgMessageID: String, recipient: String, account: String, group: Int?
    ) -> [UInt8] {
        var out = message
        // Subscription tracking's footer links where List-Unsubscribe does (the group, if any).
        let footer = settings.tracksSubscriptions
            ? SubscriptionFooter(
                url: unsubscribeURL(sgMessageID: sgMessageID, recipient: recipient, account: account, group: group), html: settings.subscriptionHTML,
                text: settings.subscriptionText, substitutionTag: settings.subscriptionSubstitutionTag) : nil
        if settings.tracksOpens || settings.tracksClicks || footer != nil {
            let pixel = settings.tracksOpens ? Self.pixel(openURL(sgMessageID: sgMessageID, recipient: recipient)) : nil
            let rewriter = HTMLLinkRewriter(
                trackingURL: settings.tracksClicks
                    ? { index, url in self.clickURL(sgMessageID: sgMessageID, recipient: recipient, index: index, url: url) } : nil,
                pixel: pixel, substitutionTag: settings.openSubstitutionTag)
            var tracking = MessageTracking(html: rewriter, trackText: settings.tracksClicks && settings.clickTrackingText == true, footer: footer)
            tracking.textTrackingURL = { index, url in self.clickURL(sgMessageID: sgMessageID, recipient: recipient, index: index, url: url, text: true) }
            out = tracking.apply(to: out).message
        }
        // RFC 8058 §3.1: both fields, and a sender's own List-Unsubscribe is left as it is.
        if group != nil || settings.tracksSubscriptions, out.withUnsafeBytes({ HeaderFields.count(named: "List-Unsubscribe", in: $0) }) == 0 {
            let url = unsubscribeURL(sgMessageID: sgMessageID, recipient: recipient, account: account, group: group)
            var field = "List-Unsubscribe: <\(url)>"
            if let unsubscribeMailbox, let token = url.split(separator: "/").last {
                // Folded before the second URL: the line stays under 998 octets whatever the token.
                field += ",\r\n <mailto:\(unsubscribeMailbox)?subject=unsubscribe%20\(token)>"
            }
            out = Array("\(field)\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n".utf8) + out
        }
        return out
    }

    /// A 1×1 image that takes no room in any client.
    static func pixel(_ url: String) -> String {
        "<img src=\"\(url)\" alt=\"\" width=\"1\" height=\"1\" border=\"0\" style=\"height:1px !important;width:1px !important;border-width:0 !important;margin:0 !important;padding:0 !important;\"/>"
    }
}
