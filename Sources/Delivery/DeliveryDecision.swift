import MailCore
import MailStore
import SMTPProtocol

/// What one attempt's result means for a recipient: its next state, when it is tried again,
/// and whether its sender gets a notice. Pure: the scheduler applies it, a table test checks it.
///
/// RFC 5321 §4.5.4.1 (retry at intervals, give up after days), §6.1 (a failure is reported to
/// the sender), RFC 3461 §4.1 (NOTIFY chooses which notices; DELAY is the MTA's choice, made
/// once after `delayWarning`).
public struct DeliveryDecision: Hashable, Sendable {
    /// Which DSN, if any, the attempt adds for its recipient.
    public enum Notice: Hashable, Sendable {
        case none
        /// RFC 3464 action `failed`.
        case failure
        /// RFC 3464 action `delayed`, with the time delivery is given up.
        case delay(willRetryUntil: Int)
    }

    public var state: RecipientState
    /// When a deferred recipient is due again.
    public var nextAttemptAt: Int?
    public var notice: Notice
    /// The recipient was deferred past the queue's maximum age: the reply says so.
    public var expired: Bool
    /// The delay notice has now been sent (it is sent once).
    public var delayNotified: Bool

    /// The facts a decision depends on.
    public struct Attempt: Hashable, Sendable {
        public var result: RecipientResult.Kind
        /// Attempts made before this one.
        public var previousAttempts: Int
        /// When the message was queued, and now (Unix seconds).
        public var queuedAt: Int
        public var now: Int
        /// The recipient's RFC 3461 NOTIFY; nil when the sender gave none.
        public var notify: DSNNotify?
        /// Whether a delay notice went out already.
        public var delayNotified: Bool

        public init(
            result: RecipientResult.Kind, previousAttempts: Int, queuedAt: Int, now: Int, notify: DSNNotify? = nil, delayNotified: Bool = false
        ) {
            self.result = result
            self.previousAttempts = previousAttempts
            self.queuedAt = queuedAt
            self.now = now
            self.notify = notify
            self.delayNotified = delayNotified
        }
    }

    public init(state: RecipientState, nextAttemptAt: Int? = nil, notice: Notice = .none, expired: Bool = false, delayNotified: Bool = false) {
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.notice = notice
        self.expired = expired
        self.delayNotified = delayNotified
    }

    /// The decision for `attempt` under `schedule`; a delay notice is due once the message has
    /// waited `delayWarning` seconds.
    public static func decide(_ attempt: Attempt, schedule: RetrySchedule, delayWarning: Int) -> DeliveryDecision {
        // RFC 3461 §4.1: no NOTIFY means FAILURE only; NEVER means nothing.
        let wantsFailure = attempt.notify.map { $0.failure } ?? true
        let wantsDelay = attempt.notify?.delay ?? false
        switch attempt.result {
        case .delivered:
            return DeliveryDecision(state: .delivered, delayNotified: attempt.delayNotified)
        case .rejected:
            return DeliveryDecision(state: .bounced, notice: wantsFailure ? .failure : .none, delayNotified: attempt.delayNotified)
        case .deferred:
            switch schedule.decide(attempts: attempt.previousAttempts + 1, queuedAt: attempt.queuedAt, now: attempt.now) {
            case .expire:
                return DeliveryDecision(state: .bounced, notice: wantsFailure ? .failure : .none, expired: true, delayNotified: attempt.delayNotified)
            case .retry(let at):
                guard wantsDelay, !attempt.delayNotified, attempt.now - attempt.queuedAt >= delayWarning else {
                    return DeliveryDecision(state: .deferred, nextAttemptAt: at, delayNotified: attempt.delayNotified)
                }
                return DeliveryDecision(
                    state: .deferred, nextAttemptAt: at, notice: .delay(willRetryUntil: attempt.queuedAt + schedule.maxQueueAge),
                    delayNotified: true)
            }
        }
    }
}
