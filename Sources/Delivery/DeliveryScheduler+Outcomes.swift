import Logging
import MailCore
import MailStore
import SMTPProtocol

/// Outcomes: each attempt's results become a `DeliveryDecision`, a DSN where one is due, and
/// rows written in batches by one recorder task (split from DeliveryScheduler.swift by concern).
extension DeliveryScheduler {
    /// Turns one unit's results into outcomes, and into a DSN where the sender asked for one.
    func conclude(_ unit: Unit, results given: [RecipientResult], details: ConnectionDetails?, content: [UInt8]?) async {
        let now = clock.now()
        // Every leased recipient gets an outcome, whatever a transport returned.
        var results = Array(given.prefix(unit.recipients.count))
        while results.count < unit.recipients.count {
            results.append(RecipientResult(reply: SMTPReply(451, EnhancedStatus(4, 4, 2), "No result from the session"), fromRemote: false))
        }
        let message = unit.message
        var outcomes: [DeliveryOutcome] = []
        var failed: [DeliveryStatusNotification.Recipient] = []
        var delayed: [DeliveryStatusNotification.Recipient] = []
        for (recipient, result) in zip(unit.recipients, results) {
            let reply = result.reply
            let peer = result.fromRemote ? details?.peerName : nil
            func report(_ action: DeliveryStatusNotification.Action, until: Int? = nil) -> DeliveryStatusNotification.Recipient {
                DeliveryStatusNotification.Recipient(
                    finalRecipient: recipient.address, originalRecipient: recipient.originalRecipient, action: action,
                    status: Bounces.status(of: reply), remoteMTA: peer.map { _ in details!.host },
                    diagnostic: result.fromRemote ? reply.singleLine : nil, lastAttempt: now, willRetryUntil: until)
            }
            let decision = DeliveryDecision.decide(
                DeliveryDecision.Attempt(
                    result: result.kind, previousAttempts: recipient.attempts, queuedAt: message.createdAt, now: now,
                    notify: recipient.notify, delayNotified: recipient.delayNotified),
                schedule: schedule, delayWarning: settings.delayWarning)
            var outcome = DeliveryOutcome(
                messageID: message.id, position: recipient.position, recipient: recipient.address, state: decision.state,
                reply: reply.singleLine, nextAttemptAt: decision.nextAttemptAt, mxHost: details?.peerName, tls: details?.tlsVersion)
            if decision.expired { outcome.reply = "\(reply.singleLine) (gave up: in the queue longer than the maximum queue age)" }
            if decision.state == .delivered { DeliveryMetrics.delivered(afterSeconds: now - message.createdAt) }
            switch decision.notice {
            case .none: break
            case .failure: failed.append(report(.failed))
            case .delay(let until):
                delayed.append(report(.delayed, until: until))
                outcome.delayNotified = true
            }
            outcomes.append(outcome)
            // One preformatted line per recipient, as Postfix logs it (no metadata dictionary to
            // build, merge and sort for the busiest line of the log).
            logger.info(
                "\(outcome.state.rawValue) id=\(message.id) to=<\(recipient.address)> relay=\(details?.peerName ?? "none") tls=\(details?.tlsVersion ?? "none") reply=\"\(outcome.reply ?? "")\"")
        }
        var bounces: [IncomingMessage] = []
        if !failed.isEmpty || !delayed.isEmpty, message.from != .null {
            var original = content
            if original == nil { original = (try? await store.content(id: message.id)) ?? nil }
            for list in [failed, delayed] where !list.isEmpty {
                if let dsn = Bounces.notification(for: message, content: original ?? [], recipients: list, hostname: settings.hostname, now: now) {
                    bounces.append(dsn)
                }
            }
        }
        submit(outcomes, bounces: bounces)
    }

    func submit(_ outcomes: [DeliveryOutcome], bounces: [IncomingMessage]) {
        pending.add(outcomes, bounces: bounces)
        guard !recording else { return }
        recording = true
        activeTasks += 1
        start { await self.recordLoop() }
    }

    /// Writes what `pending` holds, batch after batch, until nothing is left.
    private func recordLoop() async {
        while !pending.isEmpty {
            if pending.wantsMore { await clock.sleep(for: .milliseconds(5)) }
            let batch = pending.take()
            do {
                try await store.record(batch.outcomes, bounces: batch.bounces, at: clock.now())
                DeliveryMetrics.recorded(batch.outcomes)
                pending.written()
                noteActivity()
                release(batch.outcomes)
                // New mail to send: bounces, and recipients an alias expanded to.
                if !batch.bounces.isEmpty || batch.outcomes.contains(where: { !$0.expansion.isEmpty }) { signal.fire() }
            } catch {
                logger.error("cannot record delivery outcomes", metadata: ["error": "\(error)", "count": "\(batch.outcomes.count)"])
                // Given up after repeated failures: the leases expire and the recipients are
                // tried again (a duplicate, never a loss).
                if let abandoned = pending.failed(batch) { release(abandoned.outcomes) }
                await clock.sleep(for: .milliseconds(200))
            }
        }
        recording = false
        taskEnded()
        signal.fire()
    }

    /// Recorded (or given up): these recipients no longer count as in flight, and only now may a
    /// later lease take them again.
    private func release(_ outcomes: [DeliveryOutcome]) {
        inFlight -= outcomes.count
        for outcome in outcomes { holding.remove(Self.key(outcome.messageID, outcome.position)) }
    }
}
