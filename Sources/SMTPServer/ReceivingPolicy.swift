import Foundation
import MailCore
import MailStore
import NIOCore
import SASL
import SMTPProtocol

/// The rules of the receiving server: hosted recipients only on the MX, authentication (or a
/// trusted network) for submission, never an open relay; and durable storage before 250.
public struct ReceivingPolicy: SMTPPolicy {
    public let hostname: String
    public let directory: any DirectoryRepository
    public let queue: any QueueRepository
    /// True while the data disk has room; checked at MAIL (RFC 5321 §4.5.3.1.10, 452 4.3.1).
    public let hasFreeSpace: @Sendable () -> Bool
    /// Plans by name (`[plans.NAME]`), applied to authenticated senders.
    public let plans: [String: PlanLimits]
    /// Unix seconds now; injected so tests can stand at a period's edge.
    public let clock: @Sendable () -> Int
    private let recipientCache = RecipientStatusCache()
    /// DKIM signing and SPF/DKIM/DMARC checks; nil does neither.
    public var authentication: MessageAuthentication?
    /// Hosted mailboxes, for the quota check at the end of DATA; nil skips it.
    public var mailboxes: (any MailboxRepository)?

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

    /// The plan of an authenticated account; an unknown plan name is a temporary refusal.
    private func planLimits(_ account: String) -> Result<PlanLimits, PlanRefusal> {
        guard let name = try? directory.plan(user: account) else {
            return .failure(PlanRefusal(reply: SMTPReply(451, EnhancedStatus(4, 3, 0), "Temporary lookup failure")))
        }
        guard let plan = plans[name] else {
            return .failure(PlanRefusal(reply: SMTPReply(451, EnhancedStatus(4, 7, 0), "Plan \(name) of \(account) is not configured")))
        }
        return .success(plan)
    }

    /// RFC 3463 X.7.1 with the limit and when it resets, e.g. "daily limit of 100 messages".
    static func limitReply(_ limit: UsageLimit, account: String) -> SMTPReply {
        let unit = limit.perRecipient ? "recipients" : "messages"
        return SMTPReply(
            452, EnhancedStatus(4, 7, 1),
            "\(account) reached its \(limit.name) limit of \(limit.limit) \(unit); it resets at \(MessageDate.rfc3339(unixSeconds: limit.resetsAt))")
    }

    public func checkSender(_ path: ReversePath, _ parameters: MailParameters, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    {
        guard hasFreeSpace() else { return eventLoop.makeSucceededFuture(.insufficientStorage) }
        if let authentication, authentication.checkInbound, connection.listener == .mx, connection.authenticatedAs == nil,
            !connection.clientIsTrusted
        {
            // SPF at MAIL FROM (RFC 7208 §2.4): its lookups run while the message comes in.
            authentication.senderGiven(mailFrom: path.mailbox?.description ?? "", clientAddress: connection.clientAddress, helo: connection.heloName ?? "")
        }
        if let account = connection.authenticatedAs {
            switch planLimits(account) {
            case .failure(let refusal): return eventLoop.makeSucceededFuture(refusal.reply)
            case .success(let plan):
                if let size = parameters.size, let maximum = plan.maxMessageSize, size > maximum {
                    return eventLoop.makeSucceededFuture(
                        SMTPReply(552, EnhancedStatus(5, 3, 4), "Message size exceeds the plan's maximum of \(maximum) octets"))
                }
            }
        }
        // RFC 6409 §6.1: the submission server checks that the sender is one the account may use.
        if let account = connection.authenticatedAs, let mailbox = path.mailbox {
            guard (try? senderAllowed(mailbox.domain.normalized, account: account)) == true else {
                return eventLoop.makeSucceededFuture(
                    SMTPReply(553, EnhancedStatus(5, 7, 1), "Sender address <\(mailbox)> is not one \(account) may send as"))
            }
        }
        return eventLoop.makeSucceededFuture(nil)
    }

    private func senderAllowed(_ domain: String, account: String) throws(StoreError) -> Bool {
        try directory.sendingDomains(user: account).contains(domain)
    }

    /// RFC 5322 §3.6: exactly one From. For authenticated senders every From address must be
    /// one the account may send as; nil when the header is acceptable.
    public func headerRefusal(_ content: ByteBuffer, connection: ConnectionInfo) -> SMTPReply? {
        let count = content.withUnsafeReadableBytes { HeaderFields.count(named: "From", in: $0) }
        if count > 1 { return SMTPReply(550, EnhancedStatus(5, 6, 0), "Message has more than one From header (RFC 5322 §3.6)") }
        guard let account = connection.authenticatedAs else { return nil }
        let value = content.withUnsafeReadableBytes { HeaderFields.firstValue(named: "From", in: $0) }
        guard count == 1, let value else {
            return SMTPReply(550, EnhancedStatus(5, 6, 0), "Message has no From header (RFC 5322 §3.6)")
        }
        let addresses = AddressList.addrSpecs(in: value)
        guard !addresses.isEmpty else { return SMTPReply(550, EnhancedStatus(5, 6, 0), "From header has no address") }
        for address in addresses {
            guard let mailbox = try? MailboxAddress(parsing: address, allowUTF8: true),
                (try? senderAllowed(mailbox.domain.normalized, account: account)) == true
            else {
                return SMTPReply(550, EnhancedStatus(5, 7, 1), "From: \(address) is not an address \(account) may send as")
            }
        }
        return nil
    }

    public func checkRecipient(_ recipient: EnvelopeRecipient, accepted: Int, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    {
        if let account = connection.authenticatedAs, let refusal = planRefusal(account: account, accepted: accepted) {
            return eventLoop.makeSucceededFuture(refusal)
        }
        guard let mailbox = recipient.path.mailbox else {
            // RFC 5321 §4.5.1: <Postmaster> must be accepted.
            return eventLoop.makeSucceededFuture(nil)
        }
        guard mailbox.domain.kind == .name else {
            // Address literals are never hosted: relaying is for trusted networks only.
            return eventLoop.makeSucceededFuture(connection.clientIsTrusted || connection.authenticatedAs != nil ? nil : .relayDenied)
        }
        let reply: SMTPReply?
        do {
            let directory = self.directory
            let status = try recipientCache.status(for: mailbox.normalized, now: NIODeadline.now().uptimeNanoseconds) { () throws(StoreError) in
                try directory.recipientStatus(domain: mailbox.domain.normalized, address: mailbox.normalized)
            }
            switch status {
            case .notHosted:
                // Relaying is for authenticated clients and trusted networks only.
                reply = connection.clientIsTrusted || connection.authenticatedAs != nil ? nil : .relayDenied
            case .unknownUser:
                // RFC 5321 §4.5.1: postmaster@ every hosted domain is accepted.
                reply = mailbox.localPart.lowercased() == "postmaster" ? nil : .noSuchUser
            case .exists, .existsWithQuota:
                reply = nil
            case .overQuota:
                reply = SMTPReply(552, EnhancedStatus(5, 2, 2), "Mailbox of <\(mailbox)> is full")
            }
        } catch {
            reply = SMTPReply(451, EnhancedStatus(4, 3, 0), "Temporary lookup failure")
        }
        return eventLoop.makeSucceededFuture(reply)
    }

    /// Whether one more recipient would pass a plan limit: counted usage plus this transaction.
    func planRefusal(account: String, accepted: Int) -> SMTPReply? {
        let plan: PlanLimits
        switch planLimits(account) {
        case .failure(let refusal): return refusal.reply
        case .success(let p): plan = p
        }
        if let maximum = plan.maxRecipientsPerMessage, accepted >= maximum {
            return SMTPReply(452, EnhancedStatus(4, 5, 3), "Too many recipients: the plan allows \(maximum) per message")
        }
        let limits = plan.usageLimits(at: clock())
        guard !limits.isEmpty, let used = try? directory.usage(user: account, periods: limits.map(\.period)) else { return nil }
        for limit in limits where (used[limit.period] ?? 0) + limit.units(recipients: accepted + 1) > limit.limit {
            return Self.limitReply(limit, account: account)
        }
        return nil
    }

    public func verifyPassword(username: String, password: String, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<String?>
    {
        let directory = self.directory
        let promise = eventLoop.makePromise(of: String?.self)
        // scrypt takes tens of milliseconds: never on an event loop, never on the cooperative pool.
        DispatchQueue.global(qos: .userInitiated).async {
            promise.succeed(Self.accountFor(username: username.lowercased(), password: password, directory: directory))
        }
        return promise.futureResult
    }

    static func accountFor(username: String, password: String, directory: any DirectoryRepository) -> String? {
        // An API key as the password (the hosted-service convention): username "apikey" or the
        // key's own account.
        if let key = APIKey(text: password) {
            guard let record = try? directory.apiKey(id: key.id), record.revokedAt == nil,
                APIKey.matches(secret: key.secret, storedHash: record.secretHash), username == "apikey" || username == record.user
            else { return nil }
            return record.user
        }
        let stored = try? directory.credentials(username)
        // An unknown user is checked against a decoy hash, so the answer takes as long.
        let valid = PasswordHash.verify(password, against: stored?.passwordHash ?? decoyHash)
        return valid ? stored?.address : nil
    }

    public func scramCredentials(username: String, on eventLoop: any EventLoop) -> EventLoopFuture<SCRAMCredentials?> {
        let directory = self.directory
        let promise = eventLoop.makePromise(of: SCRAMCredentials?.self)
        DispatchQueue.global(qos: .userInitiated).async {
            let stored = try? directory.credentials(username.lowercased())
            promise.succeed(stored?.scram.flatMap(SCRAMCredentials.init(encoded:)))
        }
        return promise.futureResult
    }

    public func cramSecret(username: String, on eventLoop: any EventLoop) -> EventLoopFuture<[UInt8]?> {
        let directory = self.directory
        let promise = eventLoop.makePromise(of: [UInt8]?.self)
        DispatchQueue.global(qos: .userInitiated).async {
            promise.succeed((try? directory.credentials(username.lowercased()))?.cramSecret.map { Array($0.utf8) })
        }
        return promise.futureResult
    }

    /// A hash of a random password with the default cost, made once.
    static let decoyHash: String = (try? PasswordHash.make(SASLServerExchange.randomNonce())) ?? ""

    public func store(_ envelope: Envelope, content: ByteBuffer, trace: TransactionTrace, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<Result<String, StoreRefusal>>
    {
        if let refusal = headerRefusal(content, connection: connection) {
            return eventLoop.makeSucceededFuture(.failure(.rejected(refusal)))
        }
        if let refusal = quotaRefusal(envelope, size: content.readableBytes) {
            return eventLoop.makeSucceededFuture(.failure(.rejected(refusal)))
        }
        let now = clock()
        var charge: UsageCharge? = nil
        if let account = connection.authenticatedAs {
            switch planLimits(account) {
            case .failure(let refusal): return eventLoop.makeSucceededFuture(.failure(.rejected(refusal.reply)))
            case .success(let plan):
                if let maximum = plan.maxMessageSize, content.readableBytes > maximum {
                    return eventLoop.makeSucceededFuture(
                        .failure(.rejected(SMTPReply(552, EnhancedStatus(5, 3, 4), "Message size exceeds the plan's maximum of \(maximum) octets"))))
                }
                // Counted when the message is stored, in the same transaction (RFC-free, as
                // hosted services count: once per recipient).
                charge = UsageCharge(account: account, recipients: envelope.recipients.count, limits: plan.usageLimits(at: now))
            }
        }
        let id = QueueID.make()
        let header = ReceivedHeader.make(
            hostname: hostname, trace: trace, clientAddress: connection.clientAddress, queueID: id, envelope: envelope, unixSeconds: now)
        let promise = eventLoop.makePromise(of: Result<String, StoreRefusal>.self)
        /// Stores `Received:`, then `fields` (our signatures), then the body `appendBody` writes.
        func enqueue(fields: String = "", bodySize: Int, quarantine: String? = nil, appendBody: (inout Data) -> Void) {
            var data = Data(capacity: header.utf8.count + fields.utf8.count + bodySize)
            data.append(contentsOf: header.utf8)
            data.append(contentsOf: fields.utf8)
            appendBody(&data)
            let message = IncomingMessage(
                id: id, envelope: envelope, content: data, receivedAt: now, clientAddress: connection.clientAddress, heloName: trace.heloName,
                charge: charge, authenticatedAs: connection.authenticatedAs, quarantine: quarantine)
            store(message, promise: promise, account: connection.authenticatedAs ?? "")
        }
        let inbound = connection.authenticatedAs == nil && !connection.clientIsTrusted && connection.listener == .mx
        guard let authentication, inbound, authentication.checkInbound else {
            // Our own users' mail is signed for its From domain when that domain has a key.
            let signatures = connection.authenticatedAs != nil || connection.clientIsTrusted
                ? content.withUnsafeReadableBytes { authentication?.signatureFields(for: $0, at: now) ?? "" } : ""
            enqueue(fields: signatures, bodySize: content.readableBytes) { data in content.withUnsafeReadableBytes { data.append(contentsOf: $0) } }
            return promise.futureResult
        }
        // Mail from elsewhere to the MX: SPF, DKIM and DMARC, recorded in Authentication-Results.
        let body = Array(content.readableBytesView)
        let client = connection.clientAddress
        Task {
            let verdict = await authentication.check(content: body, envelope: envelope, clientAddress: client, helo: trace.heloName)
            if let refusal = verdict.refusal {
                promise.succeed(.failure(.rejected(refusal)))
            } else {
                enqueue(bodySize: verdict.content.count, quarantine: verdict.quarantine) { $0.append(contentsOf: verdict.content) }
            }
        }
        return promise.futureResult
    }

    /// RFC 3463 X.2.2 at the end of DATA: refused when every recipient is a hosted mailbox this
    /// message would take over its quota. With some room left anywhere the message is accepted,
    /// and a full mailbox's copy bounces from the queue (SMTP has one reply for all recipients).
    func quotaRefusal(_ envelope: Envelope, size: Int) -> SMTPReply? {
        guard let mailboxes, !envelope.recipients.isEmpty else { return nil }
        // The common case costs no read: RCPT just cached each recipient's status, and a
        // mailbox without a quota ends the check.
        let directory = self.directory
        let now = NIODeadline.now().uptimeNanoseconds
        for recipient in envelope.recipients {
            guard let mailbox = recipient.path.mailbox,
                let status = try? recipientCache.status(for: mailbox.normalized, now: now, lookup: { () throws(StoreError) in
                    try directory.recipientStatus(domain: mailbox.domain.normalized, address: mailbox.normalized)
                }),
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
        return SMTPReply(552, EnhancedStatus(5, 2, 2), "Mailbox of <\(full[0])> has no room for a message of \(size) octets")
    }

    private func store(_ message: IncomingMessage, promise: EventLoopPromise<Result<String, StoreRefusal>>, account: String) {
        let id = message.id
        queue.enqueue(message) { result in
            switch result {
            case .success: promise.succeed(.success(id))
            case .failure(.limitReached(let limit)): promise.succeed(.failure(.rejected(Self.limitReply(limit, account: account))))
            case .failure(let error): promise.succeed(.failure(error == .full ? .insufficientStorage : .failed))
            }
        }
    }
}

/// A plan that cannot be applied, as the reply that says so.
struct PlanRefusal: Error {
    var reply: SMTPReply
}

/// The `Received:` trace field (RFC 5321 §4.4, RFC 5322 §3.6.7).
public enum ReceivedHeader {
    public static func make(
        hostname: String, trace: TransactionTrace, clientAddress: String, queueID: String, envelope: Envelope, unixSeconds: Int
    ) -> String {
        let literal = clientAddress.contains(":") ? "IPv6:\(clientAddress)" : clientAddress
        // HELO text is client-supplied: keep it to printable ASCII so it cannot break the header.
        let helo = String(trace.heloName.unicodeScalars.filter { $0.value > 32 && $0.value < 127 && $0 != "(" && $0 != ")" })
        var text = "Received: from \(helo.isEmpty ? "unknown" : helo) ([\(literal)])\r\n"
        text += "\tby \(hostname) (Tern) with \(trace.withProtocol) id \(queueID)"
        // Name the recipient only when there is one, as Postfix does, so a BCC list is not revealed.
        if envelope.recipients.count == 1, let rcpt = envelope.recipients.first?.path {
            text += "\r\n\tfor <\(rcpt)>"
        }
        text += "; \(MessageDate.rfc5322(unixSeconds: unixSeconds))\r\n"
        return text
    }
}
