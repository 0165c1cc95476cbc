import Foundation
import MailCore
import MailStore
import NIOCore
import SendGridProtocol

/// One message handed in whole by a front end that is not SMTP (the HTTP send API): envelope
/// and content are known at once, so every check runs before anything is stored.
public struct Submission: Sendable {
    public var envelope: Envelope
    public var content: ByteBuffer
    /// Unix seconds before which delivery is not tried (`send_at`), or nil.
    public var notBefore: Int?
    /// Categories, custom args and group for the message's events.
    public var tags: MessageTags
    /// Suppression lists this message ignores (`mail_settings.bypass_*`).
    public var bypass: SuppressionBypass
    /// Kept with the message for later use (`batch_id`, `tracking_settings`), as JSON.
    public var sendOptions: String?
    /// `tracking_settings`: open and click tracking over the account's defaults.
    public var trackingSettings: TrackingSettings?

    public init(
        envelope: Envelope, content: ByteBuffer, notBefore: Int? = nil, tags: MessageTags = MessageTags(), bypass: SuppressionBypass = []
    ) {
        self.bypass = bypass
        self.envelope = envelope
        self.content = content
        self.notBefore = notBefore
        self.tags = tags
    }
}

/// Which part of a submission `MessageIntake` refused, so the front end can point at it (the
/// HTTP API names the request field).
public enum SubmissionRefusal: Error, Hashable, Sendable {
    /// The envelope sender of message `message`.
    case sender(message: Int, IntakeRefusal)
    /// Recipient `recipient` of message `message`.
    case recipient(message: Int, recipient: Int, IntakeRefusal)
    /// The content of message `message` (header rules, size, quota).
    case content(message: Int, IntakeRefusal)
    /// The request as a whole (plan limits over all its messages, storage).
    case request(IntakeRefusal)

    public var refusal: IntakeRefusal {
        switch self {
        case .sender(_, let refusal), .recipient(_, _, let refusal), .content(_, let refusal), .request(let refusal): refusal
        }
    }
}

/// What became of a submission: every message stored (their queue ids, in order), or refused
/// with every reason found.
public enum SubmissionOutcome: Hashable, Sendable {
    case accepted([String])
    case refused([SubmissionRefusal])
}

extension MessageIntake {
    /// Takes every message of one request from an account, or none: each sender, recipient and
    /// content is checked first (every refusal is returned, not only the first), then the plan
    /// limits over all messages together, then all are stored in one transaction. The queue
    /// ids, in order, once the messages are on stable storage.
    ///
    /// - Parameters:
    ///   - request: the request's id, kept with each message for its events.
    ///   - store: false checks everything a message must pass and stores nothing (the send
    ///     API's sandbox mode); plan usage is neither checked nor counted then.
    public func submit(
        _ submissions: [Submission], withProtocol: String, origin: MessageOrigin, request: String?, store: Bool = true
    ) async -> SubmissionOutcome {
        guard let account = origin.account else { return .refused([.request(.relayDenied)]) }
        var refusals: [SubmissionRefusal] = []
        for (index, submission) in submissions.enumerated() {
            let envelope = submission.envelope
            if let refusal = checkSender(envelope.reversePath, declaredSize: submission.content.readableBytes, origin: origin) {
                refusals.append(.sender(message: index, refusal))
            }
            for (position, recipient) in envelope.recipients.enumerated() {
                // Plan usage is checked below for the whole request; here each recipient alone.
                if let refusal = checkRecipient(recipient.path, accepted: position, origin: origin), !refusal.isUsageLimit {
                    refusals.append(.recipient(message: index, recipient: position, refusal))
                }
            }
            if let refusal = headerRefusal(submission.content, origin: origin) ?? quotaRefusal(envelope, size: submission.content.readableBytes) {
                refusals.append(.content(message: index, refusal))
            }
        }
        guard refusals.isEmpty else { return .refused(refusals) }
        guard store else { return .accepted([]) }
        if let refusal = requestPlanRefusal(account: account, recipientCounts: submissions.map(\.envelope.recipients.count)) {
            return .refused([.request(refusal)])
        }
        let now = clock()
        var messages: [IncomingMessage] = []
        var ordinal = 0
        for (index, submission) in submissions.enumerated() {
            let reference = request.map { SendRequestReference(requestID: $0, firstRecipient: ordinal) }
            switch prepared(
                submission.envelope, content: submission.content, withProtocol: withProtocol, origin: origin, now: now, request: reference,
                trackingSettings: submission.trackingSettings, tags: submission.tags.isEmpty ? nil : submission.tags)
            {
            case .failure(let refusal): return .refused([.content(message: index, refusal)])
            case .success(let prepared):
                for var message in prepared {
                    message.notBefore = submission.notBefore
                    message.sendOptions = submission.sendOptions
                    applySuppressions(&message, account: account, bypass: submission.bypass)
                    messages.append(message)
                }
                ordinal += submission.envelope.recipients.count
            }
        }
        let queue = self.queue
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            queue.enqueue(group: messages) { continuation.resume(returning: $0) }
        }
        switch result {
        case .success:
            Self.countEvents(messages)
            return .accepted(messages.map(\.id))
        case .failure(.limitReached(let limit)): return .refused([.request(.limitReached(limit, account: account))])
        case .failure(.full): return .refused([.request(.insufficientStorage)])
        case .failure: return .refused([.request(.storageFailed)])
        }
    }

    /// Whether messages with these recipient counts, together, would pass a usage limit of the
    /// account's plan (counted usage plus the whole request).
    func requestPlanRefusal(account: String, recipientCounts: [Int]) -> IntakeRefusal? {
        guard let name = try? directory.plan(user: account) else { return .temporaryFailure }
        guard let plan = plans[name] else { return .planNotConfigured(plan: name, account: account) }
        let limits = plan.usageLimits(at: clock())
        guard !limits.isEmpty, let used = try? directory.usage(user: account, periods: limits.map(\.period)) else { return nil }
        for limit in limits {
            let units = recipientCounts.reduce(0) { $0 + limit.units(recipients: $1) }
            if (used[limit.period] ?? 0) + units > limit.limit { return .limitReached(limit, account: account) }
        }
        return nil
    }

    /// The usage limits an account has left now, for rate-limit headers: the tightest limit of
    /// its plan, or nil when the plan has none.
    public func remainingUsage(account: String) -> (limit: UsageLimit, remaining: Int)? {
        guard let name = try? directory.plan(user: account), let plan = plans[name] else { return nil }
        let limits = plan.usageLimits(at: clock())
        guard !limits.isEmpty, let used = try? directory.usage(user: account, periods: limits.map(\.period)) else { return nil }
        return limits.map { ($0, max(0, $0.limit - (used[$0.period] ?? 0))) }.min { $0.1 < $1.1 }
    }
}

extension IntakeRefusal {
    /// A plan's usage counter is used up (as opposed to a refusal of this message itself).
    public var isUsageLimit: Bool {
        if case .limitReached = self { true } else { false }
    }
}
