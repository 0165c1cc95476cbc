import MailStore

/// Outcomes (and the DSNs they cause) waiting to be written, in batches: whatever accumulated
/// while the previous write ran goes into the next transaction — the same group commit as the
/// accept path. A write that fails puts its batch back in front, to be tried again; after
/// `maximumFailures` in a row the batch is given up (its leases expire and the recipients are
/// tried again: a duplicate at worst, never a loss). Pure bookkeeping; the scheduler writes.
struct OutcomeBatch {
    /// One batch to write.
    struct Batch {
        var outcomes: [DeliveryOutcome]
        var bounces: [IncomingMessage]
    }

    /// Below this many outcomes the writer waits a moment for more (one transaction for many).
    static let gatherBelow = 64
    static let maximumFailures = 10

    private var outcomes: [DeliveryOutcome] = []
    private var bounces: [IncomingMessage] = []
    private var failures = 0

    var isEmpty: Bool { outcomes.isEmpty && bounces.isEmpty }
    var wantsMore: Bool { outcomes.count < Self.gatherBelow }

    mutating func add(_ outcomes: [DeliveryOutcome], bounces: [IncomingMessage]) {
        self.outcomes += outcomes
        self.bounces += bounces
    }

    /// Everything pending, as the next batch to write.
    mutating func take() -> Batch {
        defer {
            outcomes = []
            bounces = []
        }
        return Batch(outcomes: outcomes, bounces: bounces)
    }

    /// The batch was written.
    mutating func written() { failures = 0 }

    /// The batch could not be written: it goes back in front of what came meanwhile. Returns
    /// it when it has now failed too often and is given up instead.
    mutating func failed(_ batch: Batch) -> Batch? {
        failures += 1
        guard failures < Self.maximumFailures else {
            failures = 0
            return batch
        }
        outcomes = batch.outcomes + outcomes
        bounces = batch.bounces + bounces
        return nil
    }
}
