import MailCore
import MailStore
import SMTPProtocol

/// Local delivery: hosted recipients into mailboxes, aliases and catch-alls expanded, postmaster
/// mail to the postmaster (split from DeliveryScheduler.swift by concern).
extension DeliveryScheduler {
    /// Local delivery (RFC 5321 §4.4 trace): a mailbox gets the message with Return-Path and
    /// Delivered-To in front, INBOX or Junk when DMARC said quarantine; an alias or catch-all
    /// expands into new recipients of the same message; unknown and full mailboxes bounce. The
    /// mailbox row is written in the transaction that records the outcome.
    func deliverLocally(_ message: QueuedMessage, _ recipients: [LeasedRecipient], mailboxes: any MailboxRepository, now: Int) async {
        var outcomes: [DeliveryOutcome] = []
        var failed: [(LeasedRecipient, RecipientResult)] = []
        for recipient in recipients {
            var target: LocalRecipient
            do {
                target = try mailboxes.resolveLocal(recipient.address)
                if target == .unknown, Self.isPostmaster(recipient.address) {
                    // RFC 5321 §4.5.1: postmaster mail is always delivered, never bounced to a
                    // sender who may not be the author.
                    guard let postmaster = try settings.postmaster ?? mailboxes.firstUser() else {
                        failed.append(
                            (recipient, RecipientResult(reply: SMTPReply(451, EnhancedStatus(4, 3, 0), "No postmaster mailbox yet"), fromRemote: false)))
                        continue
                    }
                    target = .expand([postmaster])
                }
            } catch {
                failed.append((recipient, RecipientResult(reply: SMTPReply(451, EnhancedStatus(4, 3, 0), "Mailbox lookup failed"), fromRemote: false)))
                continue
            }
            var outcome = DeliveryOutcome(
                messageID: message.id, position: recipient.position, recipient: recipient.address, state: .delivered, reply: nil, nextAttemptAt: nil,
                mxHost: "local")
            switch target {
            case .mailbox(let user, let overQuota):
                if overQuota {
                    failed.append((recipient, RecipientResult(reply: SMTPReply(552, EnhancedStatus(5, 2, 2), "Mailbox of <\(user)> is full"), fromRemote: false)))
                    continue
                }
                let delivery = MailboxDelivery(
                    user: user, recipient: recipient.address, reversePath: message.from.description, quarantined: message.quarantine != nil)
                outcome.mailbox = delivery
                outcome.reply = delivery.reply
            case .expand(let targets):
                outcome.expansion = targets
                outcome.reply = "250 2.1.5 Expanded to \(targets.joined(separator: ", "))"
            case .unknown:
                failed.append((recipient, RecipientResult(reply: SMTPReply(550, EnhancedStatus(5, 1, 1), "No such user here"), fromRemote: false)))
                continue
            }
            outcomes.append(outcome)
            logger.info("delivered id=\(message.id) to=<\(recipient.address)> relay=local reply=\"\(outcome.reply ?? "")\"")
        }
        if !outcomes.isEmpty { submit(outcomes, bounces: []) }
        if !failed.isEmpty {
            await conclude(Unit(message: message, recipients: failed.map(\.0)), results: failed.map(\.1), details: nil, content: nil)
        }
    }

    /// `Postmaster` (no domain) or `postmaster@` any domain, in any case.
    static func isPostmaster(_ address: String) -> Bool {
        let local = address.lastIndex(of: "@").map { address[..<$0] } ?? address[...]
        return local.lowercased() == "postmaster"
    }
}
