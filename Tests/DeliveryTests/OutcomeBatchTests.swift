import MailStore
import Testing

@testable import Delivery

@Suite struct OutcomeBatchTests {
    func outcome(_ position: Int) -> DeliveryOutcome {
        DeliveryOutcome(messageID: "m", position: position, recipient: "r\(position)@x.test", state: .delivered, reply: "250", nextAttemptAt: nil)
    }

    @Test func batchesWhatAccumulated() {
        var pending = OutcomeBatch()
        #expect(pending.isEmpty && pending.wantsMore)
        pending.add([outcome(0), outcome(1)], bounces: [])
        pending.add([outcome(2)], bounces: [])
        let batch = pending.take()
        #expect(batch.outcomes.map(\.position) == [0, 1, 2])
        #expect(pending.isEmpty)
        pending.add((0..<OutcomeBatch.gatherBelow).map(outcome), bounces: [])
        #expect(!pending.wantsMore)
    }

    /// A failed write goes back in front of what came meanwhile, and is given up only after
    /// `maximumFailures` failures in a row.
    @Test func failedBatchesAreRetriedFirstThenGivenUp() {
        var pending = OutcomeBatch()
        pending.add([outcome(0)], bounces: [])
        var batch = pending.take()
        pending.add([outcome(1)], bounces: [])
        #expect(pending.failed(batch) == nil)
        #expect(pending.take().outcomes.map(\.position) == [0, 1])
        // A success resets the count.
        pending.written()
        pending.add([outcome(2)], bounces: [])
        for _ in 1..<OutcomeBatch.maximumFailures {
            batch = pending.take()
            #expect(pending.failed(batch) == nil)
        }
        batch = pending.take()
        #expect(pending.failed(batch)?.outcomes.map(\.position) == [2])
        #expect(pending.isEmpty)
    }
}
