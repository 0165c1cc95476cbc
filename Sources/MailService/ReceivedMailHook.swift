import MailCore

/// Something done with MX mail from outside to one of the service's own addresses, once the
/// message is stored (it is delivered to that mailbox as any mail too): feedback-loop reports
/// (`FeedbackLoop`) and unsubscribe requests by mail (`UnsubscribeByMail`).
public protocol ReceivedMailHook: Sendable {
    /// Whether the message is for this hook (one of its recipients is the hook's address).
    func isAddressed(_ envelope: Envelope) -> Bool
    /// Reads the stored message.
    func received(_ message: [UInt8]) async
}

/// `mailto:` unsubscribe (RFC 2369 List-Unsubscribe): mail to `[engagement]
/// unsubscribe_address` whose Subject carries the token of the message's unsubscribe URL does
/// what a one-click POST does. The token authenticates the request; the sender's address does not.
public struct UnsubscribeByMail: ReceivedMailHook {
    /// Normalized (lowercased) address.
    public let address: String
    let recorder: EngagementRecorder

    public init(address: String, recorder: EngagementRecorder) {
        self.address = address.lowercased()
        self.recorder = recorder
    }

    public func isAddressed(_ envelope: Envelope) -> Bool {
        envelope.recipients.contains { $0.path.mailbox?.normalized == address }
    }

    public func received(_ message: [UInt8]) async {
        _ = await unsubscribe(message)
    }

    /// The subscription the message unsubscribed, or nil.
    public func unsubscribe(_ message: [UInt8]) async -> EngagementRecorder.Subscription? {
        guard let subject = message.withUnsafeBytes({ HeaderFields.firstValue(named: "Subject", in: $0) }) else { return nil }
        // "unsubscribe TOKEN", as the mailto URL put it; a client may add "Re:" or the like.
        for word in subject.split(whereSeparator: { $0 == " " || $0 == "\t" }).reversed() where word.count >= 24 {
            if let done = await recorder.unsubscribe(token: String(word)) { return done }
        }
        return nil
    }
}

extension FeedbackLoop: ReceivedMailHook {
    public func received(_ message: [UInt8]) async {
        await handle(message)
    }
}
