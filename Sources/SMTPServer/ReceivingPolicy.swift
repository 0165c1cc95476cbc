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
    private let recipientCache = RecipientStatusCache()

    public init(hostname: String, directory: any DirectoryRepository, queue: any QueueRepository, hasFreeSpace: @escaping @Sendable () -> Bool) {
        self.hostname = hostname
        self.directory = directory
        self.queue = queue
        self.hasFreeSpace = hasFreeSpace
    }

    public func checkSender(_ path: ReversePath, _ parameters: MailParameters, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    {
        guard hasFreeSpace() else { return eventLoop.makeSucceededFuture(.insufficientStorage) }
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
        let (count, value) = content.withUnsafeReadableBytes { raw in
            (HeaderFields.count(named: "From", in: raw), HeaderFields.firstValue(named: "From", in: raw))
        }
        if count > 1 { return SMTPReply(550, EnhancedStatus(5, 6, 0), "Message has more than one From header (RFC 5322 §3.6)") }
        guard let account = connection.authenticatedAs else { return nil }
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

    public func checkRecipient(_ recipient: EnvelopeRecipient, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<SMTPReply?>
    {
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
            case .exists:
                reply = nil
            }
        } catch {
            reply = SMTPReply(451, EnhancedStatus(4, 3, 0), "Temporary lookup failure")
        }
        return eventLoop.makeSucceededFuture(reply)
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

    /// A hash of a random password with the default cost, made once.
    static let decoyHash: String = (try? PasswordHash.make(SASLServerExchange.randomNonce())) ?? ""

    public func store(_ envelope: Envelope, content: ByteBuffer, trace: TransactionTrace, connection: ConnectionInfo, on eventLoop: any EventLoop)
        -> EventLoopFuture<Result<String, StoreRefusal>>
    {
        if let refusal = headerRefusal(content, connection: connection) {
            return eventLoop.makeSucceededFuture(.failure(.rejected(refusal)))
        }
        let id = QueueID.make()
        let now = MessageDate.nowUnixSeconds()
        let header = ReceivedHeader.make(
            hostname: hostname, trace: trace, clientAddress: connection.clientAddress, queueID: id, envelope: envelope, unixSeconds: now)
        var data = Data(capacity: header.utf8.count + content.readableBytes)
        data.append(contentsOf: header.utf8)
        content.withUnsafeReadableBytes { data.append(contentsOf: $0) }
        let message = IncomingMessage(
            id: id, envelope: envelope, content: data, receivedAt: now, clientAddress: connection.clientAddress, heloName: trace.heloName)
        let promise = eventLoop.makePromise(of: Result<String, StoreRefusal>.self)
        queue.enqueue(message) { result in
            switch result {
            case .success: promise.succeed(.success(id))
            case .failure(let error): promise.succeed(.failure(error == .full ? .insufficientStorage : .failed))
            }
        }
        return promise.futureResult
    }
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
