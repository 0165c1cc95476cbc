import Dispatch
import Engagement
import Foundation
import MailAuth
import MailCore
import MailStore
import NIOCore
import SendGridProtocol

/// Everything that happens to a message between a front end and the durable queue, for SMTP
/// today and the HTTP send API next: the sender and recipient rules (hosted recipients only at
/// the MX, never an open relay, senders the account may use), plan limits and quotas, the
/// `Received:` trace field, DKIM signing of our users' mail, SPF/DKIM/DMARC on mail from
/// outside, and the durable enqueue (DESIGN.md "The accept path").
///
/// Sender and recipient checks answer synchronously (an indexed read, cached): no task hop per
/// command. `accept` completes once the message is on stable storage, or with why not.
public struct MessageIntake: Sendable {
    public let hostname: String
    public let directory: any DirectoryRepository
    public let queue: any QueueRepository
    /// True while the data disk has room (RFC 5321 §4.5.3.1.10).
    public let hasFreeSpace: @Sendable () -> Bool
    /// Plans by name (`[plans.NAME]`), applied to authenticated senders.
    public let plans: [String: PlanLimits]
    /// Unix seconds now; injected so tests can stand at a period's edge.
    public let clock: @Sendable () -> Int
    let recipientCache = RecipientStatusCache()
    /// DKIM signing and SPF/DKIM/DMARC checks; nil does neither.
    public var authentication: MessageAuthentication?
    /// Hosted mailboxes, for the quota check of a whole message; nil skips it.
    public var mailboxes: (any MailboxRepository)?
    /// Accounts' suppression lists: their recipients are dropped, not sent; nil checks none.
    public var suppressions: (any SuppressionRepository)?
    /// Which accounts are sandboxes (their mail is kept, never sent); nil: none is.
    public var sandboxes: (any SandboxRepository)?
    /// Open and click tracking of accounts' mail; nil tracks nothing.
    public var tracking: EngagementTracking?
    /// Accounts' own tracking defaults (over `tracking.defaults`); nil: the server's only.
    public var trackingPreferences: TrackingPreferences?
    /// The most all per-recipient copies of one tracked message may take together: 100
    /// recipients of a 2.5 MiB newsletter, or 1,000 of 256 KiB.
    public var maximumTrackedBytes = 256 << 20
    /// What is done with MX mail to the service's own addresses (feedback-loop reports,
    /// unsubscribe requests by mail), once it is stored.
    public var receivedMailHooks: [any ReceivedMailHook] = []

    public init(
        hostname: String, directory: any DirectoryRepository, queue: any QueueRepository, plans: [String: PlanLimits] = [:],
        clock: @escaping @Sendable () -> Int = { MessageDate.nowUnixSeconds() }, hasFreeSpace: @escaping @Sendable () -> Bool
    ) {
        self.hostname = hostname
        self.directory = directory
        self.queue = queue
        self.plans = plans
        self.clock = clock
        self.hasFreeSpace = hasFreeSpace
    }

    // MARK: - Sender

    /// nil to take `path` as the sender, or why not. `declaredSize` is SMTP's SIZE (RFC 1870).
    public func checkSender(_ path: ReversePath, declaredSize: Int?, origin: MessageOrigin) -> IntakeRefusal? {
        guard hasFreeSpace() else { return .insufficientStorage }
        if let authentication, authentication.checkInbound, origin.isInboundFromOutside {
            // SPF at MAIL FROM (RFC 7208 §2.4): its lookups run while the message comes in.
            authentication.senderGiven(
                mailFrom: path.mailbox?.description ?? "", clientAddress: origin.clientAddress, helo: origin.heloName, connection: origin.connectionID)
        }
        if let account = origin.account {
            switch planLimits(account) {
            case .failure(let refusal): return refusal
            case .success(let plan):
                if let size = declaredSize, let maximum = plan.maxMessageSize, size > maximum { return .exceedsPlanSize(maximum: maximum) }
            }
        }
        // RFC 6409 §6.1: the submission server checks that the sender is one the account may use.
        if let account = origin.account, let mailbox = path.mailbox {
            guard (try? mayUse(mailbox.domain.normalized, account: account)) == true else {
                return .senderNotAllowed(address: mailbox.description, account: account)
            }
        }
        return nil
    }

    private func mayUse(_ domain: String, account: String) throws(StoreError) -> Bool {
        try directory.sendingDomains(user: account).contains(domain)
    }

    /// RFC 5322 §3.6: exactly one From. For an account's mail every From address must be one the
    /// account may send as; nil when the header is acceptable.
    public func headerRefusal(_ content: ByteBuffer, origin: MessageOrigin) -> IntakeRefusal? {
        let fields = content.withUnsafeReadableBytes { HeaderFields.fieldCount(in: $0, limit: Self.maximumHeaderFields) }
        if fields > Self.maximumHeaderFields { return .tooManyHeaderFields(limit: Self.maximumHeaderFields) }
        // RFC 5321 §6.3: a message that has passed through this many hosts is looping.
        let hops = content.withUnsafeReadableBytes { HeaderFields.count(named: "Received", in: $0) }
        if hops > Self.maximumReceivedFields { return .mailLoop(hops: Self.maximumReceivedFields) }
        let count = content.withUnsafeReadableBytes { HeaderFields.count(named: "From", in: $0) }
        if count > 1 { return .severalFromFields }
        guard let account = origin.account else { return nil }
        let value = content.withUnsafeReadableBytes { HeaderFields.firstValue(named: "From", in: $0) }
        guard count == 1, let value else { return .noFromField }
        let addresses = AddressList.addrSpecs(in: value)
        guard !addresses.isEmpty else { return .fromWithoutAddress }
        for address in addresses {
            guard let mailbox = try? MailboxAddress(parsing: address, allowUTF8: true),
                (try? mayUse(mailbox.domain.normalized, account: account)) == true
            else { return .fromNotAllowed(address: address, account: account) }
        }
        return nil
    }

    /// Header fields a message may have: far above what mail carries (a few dozen), low enough
    /// that per-field work on the accept path (DKIM, DMARC, trace) stays small.
    public static let maximumHeaderFields = 1000

    /// `Received:` fields beyond which a message is taken for a loop (Postfix's
    /// hopcount_limit is 50 too).
    public static let maximumReceivedFields = 50

    /// The front end's connection closed: SPF work begun for its transactions is cancelled.
    public func connectionClosed(_ origin: MessageOrigin) {
        authentication?.connectionClosed(clientAddress: origin.clientAddress, connection: origin.connectionID)
    }

    // MARK: - Recipients

    /// nil to take `path` as a recipient, or why not. `accepted` is how many recipients the
    /// message already has (plan limits count them).
    public func checkRecipient(_ path: ForwardPath, accepted: Int, origin: MessageOrigin) -> IntakeRefusal? {
        if let account = origin.account, let refusal = planRefusal(account: account, accepted: accepted) { return refusal }
        // RFC 5321 §4.5.1: <Postmaster> must be accepted.
        guard let mailbox = path.mailbox else { return nil }
        // Address literals are never hosted: relaying is for trusted networks and accounts only.
        guard mailbox.domain.kind == .name else { return origin.mayRelay ? nil : .relayDenied }
        let status: RecipientStatus
        do {
            status = try recipientStatus(mailbox)
        } catch {
            return .temporaryFailure
        }
        switch status {
        case .notHosted: return origin.mayRelay ? nil : .relayDenied
        // RFC 5321 §4.5.1: postmaster@ every hosted domain is accepted.
        case .unknownUser: return mailbox.localPart.lowercased() == "postmaster" ? nil : .noSuchUser
        case .exists, .existsWithQuota: return nil
        case .overQuota: return .mailboxFull(address: mailbox.description)
        }
    }

    private func recipientStatus(_ mailbox: MailboxAddress) throws(StoreError) -> RecipientStatus {
        let directory = self.directory
        return try recipientCache.status(for: mailbox.normalized, now: DispatchTime.now().uptimeNanoseconds) { () throws(StoreError) in
            try directory.recipientStatus(domain: mailbox.domain.normalized, address: mailbox.normalized)
        }
    }

    /// Whether one more recipient would pass a plan limit: counted usage plus this message.
    func planRefusal(account: String, accepted: Int) -> IntakeRefusal? {
        let plan: PlanLimits
        switch planLimits(account) {
        case .failure(let refusal): return refusal
        case .success(let found): plan = found
        }
        if let maximum = plan.maxRecipientsPerMessage, accepted >= maximum { return .tooManyRecipients(maximum: maximum) }
        let limits = plan.usageLimits(at: clock())
        guard !limits.isEmpty, let used = try? directory.usage(user: account, periods: limits.map(\.period)) else { return nil }
        for limit in limits where (used[limit.period] ?? 0) + limit.units(recipients: accepted + 1) > limit.limit {
            return .limitReached(limit, account: account)
        }
        return nil
    }

    /// The plan of an account; an unknown plan name is a temporary refusal.
    private func planLimits(_ account: String) -> Result<PlanLimits, IntakeRefusal> {
        guard let name = try? directory.plan(user: account) else { return .failure(.temporaryFailure) }
        guard let plan = plans[name] else { return .failure(.planNotConfigured(plan: name, account: account)) }
        return .success(plan)
    }

    // MARK: - The message

    /// Takes the message: header rules, quota, plan size and usage, the trace field, signing or
    /// inbound checks, then the durable enqueue. `completion` gets the queue id once the message
    /// is on stable storage, or the refusal; nothing refused is stored or counted.
    /// `withProtocol` is the trace field's "with" (RFC 3848: ESMTPSA, …; "HTTP" for the API).
    public func accept(
        _ envelope: Envelope, content: ByteBuffer, withProtocol: String, origin: MessageOrigin,
        completion done: @escaping @Sendable (Result<String, IntakeRefusal>) -> Void
    ) {
        if let refusal = headerRefusal(content, origin: origin) ?? quotaRefusal(envelope, size: content.readableBytes) {
            return done(.failure(refusal))
        }
        let completion: @Sendable (Result<String, IntakeRefusal>) -> Void
        let hooks = origin.account == nil ? receivedMailHooks.filter { $0.isAddressed(envelope) } : []
        if !hooks.isEmpty {
            // Mail to a service address (abuse reports, unsubscribe requests) is delivered to its
            // mailbox as any mail, and, once stored, read by its hooks.
            let message = Array(content.readableBytesView)
            completion = { result in
                if case .success = result {
                    Task { for hook in hooks { await hook.received(message) } }
                }
                done(result)
            }
        } else {
            completion = done
        }
        let now = clock()
        guard let authentication, origin.isInboundFromOutside, authentication.checkInbound else {
            switch prepared(envelope, content: content, withProtocol: withProtocol, origin: origin, now: now) {
            case .failure(let refusal): completion(.failure(refusal))
            case .success(var messages):
                if let account = origin.account {
                    for index in messages.indices { applySuppressions(&messages[index], account: account, bypass: []) }
                }
                for index in messages.indices { messages[index].deliverToMailboxesAtOnce = Self.deliversAtOnce(origin) }
                enqueue(messages, account: origin.account) { completion($0.map { $0[0] }) }
            }
            return
        }
        // Mail from elsewhere to the MX: SPF, DKIM and DMARC, recorded in Authentication-Results.
        let id = QueueID.make()
        let header = ReceivedHeader.make(
            hostname: hostname, heloName: origin.heloName, withProtocol: withProtocol, clientAddress: origin.clientAddress, queueID: id,
            envelope: envelope, unixSeconds: now)
        let body = Array(content.readableBytesView)
        Task {
            let verdict = await authentication.check(content: body, envelope: envelope, clientAddress: origin.clientAddress, helo: origin.heloName)
            if let refusal = verdict.refusal { return completion(.failure(refusal)) }
            var data = Data(capacity: header.utf8.count + verdict.content.count)
            data.append(contentsOf: header.utf8)
            data.append(contentsOf: verdict.content)
            var message = IncomingMessage(
                id: id, envelope: envelope, content: data, receivedAt: now, clientAddress: origin.clientAddress, heloName: origin.heloName,
                quarantine: verdict.quarantine)
            message.deliverToMailboxesAtOnce = Self.deliversAtOnce(origin)
            enqueue([message], account: nil) { completion($0.map { $0[0] }) }
        }
    }

    /// Mail received at the MX (not an account's) reaches hosted mailboxes in the transaction
    /// that stores it: nothing about it needs the queue (no tracking, no webhooks, no
    /// account events), and a second write transaction, a lease and the scheduler's work per
    /// message cost more than the delivery itself (`bench/smtp-accept`). Everything else a
    /// recipient can be (remote, an alias, a catch-all, postmaster, a full mailbox) is queued.
    static func deliversAtOnce(_ origin: MessageOrigin) -> Bool {
        origin.atMX && origin.account == nil
    }

    /// A message that is not checked as inbound mail, ready for the queue: plan size and charge,
    /// `Received:`, forged Authentication-Results removed, open and click tracking for an
    /// account's mail that asks for it, our DKIM signature when the sender may relay. The caller
    /// has applied `headerRefusal` and `quotaRefusal`.
    ///
    /// With tracking, every recipient gets a message of its own (its links name it, as
    /// SendGrid's do), each with the `sg_message_id` the recipient would have had in one
    /// message; the plan is charged once, on the first.
    ///
    /// - Parameters:
    ///   - request: the send request the message belongs to (HTTP), for its events' ids.
    ///   - trackingSettings: the send API's `tracking_settings`; SMTP's come from `X-SMTPAPI`.
    func prepared(
        _ envelope: Envelope, content: ByteBuffer, withProtocol: String, origin: MessageOrigin, now: Int, request: SendRequestReference? = nil,
        trackingSettings: TrackingSettings? = nil, tags submissionTags: MessageTags? = nil
    ) -> Result<[IncomingMessage], IntakeRefusal> {
        var charge: UsageCharge? = nil
        if let account = origin.account {
            switch planLimits(account) {
            case .failure(let refusal): return .failure(refusal)
            case .success(let plan):
                if let maximum = plan.maxMessageSize, content.readableBytes > maximum { return .failure(.exceedsPlanSize(maximum: maximum)) }
                // Counted when the message is stored, in the same transaction (as hosted services
                // count: once per recipient).
                charge = UsageCharge(account: account, recipients: envelope.recipients.count, limits: plan.usageLimits(at: now))
            }
        }
        // SendGrid's X-SMTPAPI field from our own senders: its categories, custom args, group
        // and tracking filters go with the message; the field itself is removed before signing,
        // so it never leaves (SendGrid does the same).
        var cleaned: [UInt8]? = nil
        var tags = submissionTags ?? MessageTags()
        var settings = trackingSettings
        if origin.mayRelay, content.withUnsafeReadableBytes({ HeaderFields.count(named: "X-SMTPAPI", in: $0) }) > 0 {
            let bytes = Array(content.readableBytesView)
            let fields = MessageHeader(parsing: bytes).fields(named: "X-SMTPAPI")
            if let parsed = fields.first.flatMap({ SMTPAPIHeader(value: $0.unfoldedValue) }) {
                if submissionTags == nil {
                    tags = MessageTags(categories: parsed.categories, customArgs: parsed.customArgs, asmGroupID: parsed.asmGroupID)
                }
                if settings == nil { settings = parsed.tracking }
            }
            cleaned = Self.removing(fields, from: bytes)
        }
        // An Authentication-Results field naming this server that the client wrote itself is a
        // forgery on every path (RFC 8601 §5), submission and trusted relays included: a local
        // recipient's client would believe it. The common case costs one header scan.
        let authservID = authentication?.authservID ?? hostname
        let claimsResults = content.withUnsafeReadableBytes { HeaderFields.count(named: "Authentication-Results", in: $0) } > 0
        if claimsResults {
            cleaned = AuthenticationResults.removingForged(cleaned ?? Array(content.readableBytesView), authservID: authservID).message
        }
        /// `Received:`, then our signatures, then the body.
        func message(_ id: String, _ envelope: Envelope, body: UnsafeRawBufferPointer, charge: UsageCharge?) -> IncomingMessage {
            let header = ReceivedHeader.make(
                hostname: hostname, heloName: origin.heloName, withProtocol: withProtocol, clientAddress: origin.clientAddress, queueID: id,
                envelope: envelope, unixSeconds: now)
            let signatures = origin.mayRelay ? (authentication?.signatureFields(for: body, at: now) ?? "") : ""
            var data = Data(capacity: header.utf8.count + signatures.utf8.count + body.count)
            data.append(contentsOf: header.utf8)
            data.append(contentsOf: signatures.utf8)
            data.append(contentsOf: body)
            var prepared = IncomingMessage(
                id: id, envelope: envelope, content: data, receivedAt: now, clientAddress: origin.clientAddress, heloName: origin.heloName,
                charge: charge, authenticatedAs: origin.account)
            prepared.tags = tags
            // A sandbox key, or a sandbox account on any path: kept in its inbox, never sent.
            if let account = origin.account {
                prepared.sandbox = origin.sandbox || ((try? sandboxes?.isSandboxed(user: account)) ?? false)
            }
            return prepared
        }
        // A message of an unsubscribe group (or with subscription tracking) carries a one-click
        // List-Unsubscribe naming its recipient (RFC 8058), so it is one per recipient too.
        if origin.mayRelay, let account = origin.account, let tracking, envelope.recipients.count >= 1,
            let resolved = Optional((settings ?? TrackingSettings()).over(trackingPreferences?.settings(account: account) ?? tracking.defaults)),
            resolved.tracksOpens || resolved.tracksClicks || resolved.tracksSubscriptions || tags.asmGroupID != nil
        {
            let bytes = cleaned ?? Array(content.readableBytesView)
            guard bytes.count * envelope.recipients.count <= maximumTrackedBytes else {
                return .failure(.trackedCopiesTooLarge(maximum: maximumTrackedBytes))
            }
            var messages: [IncomingMessage] = []
            for (position, recipient) in envelope.recipients.enumerated() {
                let id = QueueID.make()
                let reference = request.map { SendRequestReference(requestID: $0.requestID, firstRecipient: $0.firstRecipient + position) }
                let sgMessageID = reference.map { "\($0.requestID).\($0.firstRecipient)" } ?? "\(id).0"
                let address = recipient.path.mailbox?.description ?? ""
                let body = tracking.apply(
                    to: bytes, settings: resolved, sgMessageID: sgMessageID, recipient: address, account: account, group: tags.asmGroupID)
                let alone = Envelope(reversePath: envelope.reversePath, mailParameters: envelope.mailParameters, recipients: [recipient])
                var single = body.withUnsafeBytes { message(id, alone, body: $0, charge: position == 0 ? charge : nil) }
                single.request = reference
                messages.append(single)
            }
            return .success(messages)
        }
        var single: IncomingMessage
        if let cleaned {
            single = cleaned.withUnsafeBytes { message(QueueID.make(), envelope, body: $0, charge: charge) }
        } else {
            single = content.withUnsafeReadableBytes { message(QueueID.make(), envelope, body: $0, charge: charge) }
        }
        single.request = request
        return .success([single])
    }

    /// `processed` and `dropped` events of stored messages, for `/metrics`.
    static func countEvents(_ messages: [IncomingMessage]) {
        // `dropped` is counted where the store decides it (`CommitReport.dropped`).
        ServiceMetrics.events("processed", count: messages.reduce(0) { $0 + $1.envelope.recipients.count })
    }

    /// Asks the store to drop the recipients of an account's message that are on its
    /// suppression lists (the global ones and the message's group), with SendGrid's reason,
    /// unless `bypass` ignores that list: checked in the transaction that stores the message.
    func applySuppressions(_ message: inout IncomingMessage, account: String, bypass: SuppressionBypass) {
        guard suppressions != nil, bypass != .all else { return }
        message.suppressionCheck = SuppressionCheck(account: account, bypass: bypass)
    }

    /// `message` without `fields` (found in it by `MessageHeader`).
    static func removing(_ fields: [RawHeaderField], from message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count)
        var position = 0
        for field in fields.sorted(by: { $0.raw.startIndex < $1.raw.startIndex }) {
            out += message[position..<field.raw.startIndex]
            position = field.raw.endIndex
        }
        out += message[position...]
        return out
    }

    /// The durable write of one message or one request's messages; the queue ids, or why not.
    private func enqueue(
        _ messages: [IncomingMessage], account: String?, completion: @escaping @Sendable (Result<[String], IntakeRefusal>) -> Void
    ) {
        let ids = messages.map(\.id)
        let done: @Sendable (Result<Void, StoreError>) -> Void = { result in
            switch result {
            case .success:
                Self.countEvents(messages)
                completion(.success(ids))
            case .failure(.limitReached(let limit)): completion(.failure(.limitReached(limit, account: account ?? "")))
            case .failure(.full): completion(.failure(.insufficientStorage))
            case .failure: completion(.failure(.storageFailed))
            }
        }
        if messages.count == 1 { queue.enqueue(messages[0], completion: done) } else { queue.enqueue(group: messages, completion: done) }
    }

    /// RFC 3463 X.2.2 for a whole message: refused when every recipient is a hosted mailbox this
    /// message would take over its quota. With some room left anywhere the message is accepted,
    /// and a full mailbox's copy bounces from the queue (SMTP has one reply for all recipients).
    func quotaRefusal(_ envelope: Envelope, size: Int) -> IntakeRefusal? {
        guard let mailboxes, !envelope.recipients.isEmpty else { return nil }
        // The common case costs no read: RCPT just cached each recipient's status, and a
        // mailbox without a quota ends the check.
        for recipient in envelope.recipients {
            guard let mailbox = recipient.path.mailbox, let status = try? recipientStatus(mailbox),
                status == .existsWithQuota || status == .overQuota
            else { return nil }
        }
        var full: [String] = []
        for recipient in envelope.recipients {
            // (`usage` is one indexed read: the store keeps a running total per user.)
            guard let address = recipient.path.mailbox?.normalized,
                case .mailbox(let user, _)? = try? mailboxes.resolveLocal(address),
                let usage = try? mailboxes.usage(user: user), let quota = usage.quota, usage.bytes + size > quota
            else { return nil }
            full.append(user)
        }
        return .noRoomForMessage(user: full[0], size: size)
    }
}
