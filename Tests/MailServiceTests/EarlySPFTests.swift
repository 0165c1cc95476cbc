import MailAuth
import Synchronization
import Testing

@testable import MailService

/// Issue 12 item 2: SPF work begun at MAIL FROM is bounded per connection and cancelled when
/// its transaction is reset or its connection closes.
final class Counter: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

@Suite struct EarlySPFTests {
    /// A check that runs until cancelled, counting how many were cancelled.
    func hanging(_ cancelled: Counter) -> @Sendable () async -> MessageAuthentication.SPFPair {
        {
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(2)) }
            cancelled.add()
            return MessageAuthentication.SPFPair(mailFrom: SPFOutcome(result: .temperror, domain: "x.test"), helo: nil)
        }
    }

    func eventually(_ condition: () -> Bool) async {
        for _ in 0..<2000 where !condition() { try? await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func thousandsOfResetTransactionsKeepOneCheck() async {
        let early = EarlySPF()
        let cancelled = Counter()
        let client = EarlySPF.client("192.0.2.7", connection: 42)
        for i in 0..<2000 {
            early.start(key: EarlySPF.key("192.0.2.7", "s\(i)@spam\(i).test", "h"), client: client, hanging(cancelled))
            #expect(early.count == 1)
        }
        await eventually { cancelled.count == 1999 }
        #expect(cancelled.count == 1999)
        // Another connection's check is its own.
        early.start(key: EarlySPF.key("192.0.2.8", "x@y.test", "h"), client: EarlySPF.client("192.0.2.8", connection: 43), hanging(cancelled))
        #expect(early.count == 2)
        // The connection goes away: its check is cancelled, the other stays.
        early.cancel(client: client)
        #expect(early.count == 1)
        await eventually { cancelled.count == 2000 }
        #expect(cancelled.count == 2000)
        early.cancel(client: EarlySPF.client("192.0.2.8", connection: 43))
        #expect(early.count == 0)
    }

    @Test func theSameSenderReusesItsCheck() {
        let early = EarlySPF()
        let cancelled = Counter()
        let client = EarlySPF.client("192.0.2.7", connection: 7)
        let key = EarlySPF.key("192.0.2.7", "a@b.test", "h")
        for _ in 0..<100 { early.start(key: key, client: client, hanging(cancelled)) }
        #expect(early.count == 1)
        let task = early.take(key: key)
        #expect(task != nil && early.count == 0)
        task?.cancel()
    }
}
