import DNSClient
import Foundation
import MailStore
import SMTPProtocol
import Synchronization
import Testing

@testable import Delivery

/// Answers from `zone`, except that names under `slow.test` take a minute.
struct SlowResolver: DNSResolver {
    func query(_ name: DNSName, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
        if name.description.hasSuffix("slow.test") || name.description.hasSuffix("slow.test.") {
            try? await Task.sleep(for: .seconds(60))
        }
        return try await zone.query(name, type)
    }
}

@Suite struct RoutingDeadlineTests {
    /// One destination whose DNS hangs is deferred at the route deadline (451 4.4.3); the other
    /// destination in the same pass is delivered without waiting for it.
    @Test func aSlowDestinationNeverHoldsThePass() async throws {
        let connector = FakeConnector()
        let h = try Harness(connector: connector, settings: { $0.routeDeadline = 3 }, resolver: SlowResolver())
        let slow = try await h.enqueue(to: ["a@slow.test"])
        let fast = try await h.enqueue(to: ["b@example.net"])
        let done = Mutex(false)
        let scheduler = h.scheduler
        let run = Task {
            await scheduler.runUntilIdle()
            done.withLock { $0 = true }
        }
        // The fast domain is delivered while the slow one's lookup hangs...
        #expect(await eventually(10) { connector.sent.count == 1 })
        #expect(!done.withLock { $0 })
        // ...and once the route deadline passes on delivery's clock, the pass ends.
        for _ in 0..<5 where !done.withLock({ $0 }) {
            h.clock.advance(1)
            _ = await eventually(0.5) { done.withLock { $0 } }
        }
        await run.value
        let fastRecipient = try await h.message(fast).recipients[0]
        #expect(fastRecipient.state == .delivered, "\(fastRecipient)")
        let deferred = try await h.message(slow).recipients[0]
        #expect(deferred.state == .deferred)
        #expect(deferred.lastReply?.hasPrefix("451 4.4.3") == true && deferred.lastReply?.contains("took too long") == true)
        #expect(connector.sent.map(\.message.recipients[0].address) == ["b@example.net"])
    }

    /// A domain with more mail exchangers than the cap is routed through the first ones only.
    @Test func mailExchangersAreCapped() async throws {
        var records: [DNSRecord] = []
        for i in 0..<30 {
            records.append(DNSRecord(name: name("many.test"), type: 15, ttl: 300, data: .mx(preference: UInt16(i), exchange: name("mx\(i).many.test"))))
            records.append(DNSRecord(name: name("mx\(i).many.test"), type: 1, ttl: 300, data: .a([192, 0, 2, UInt8(i + 1)])))
        }
        let router = DeliveryRouter(resolver: ZoneResolver(records: records), routes: [:], port: 25, isLocal: { _ in false }, shuffle: { $0 })
        guard case .remote(_, let hops) = await router.route(domain: "many.test") else {
            Issue.record("no route")
            return
        }
        #expect(hops.count == DeliveryRouter.maximumMXHosts)
        #expect(hops.map(\.host) == (0..<DeliveryRouter.maximumMXHosts).map { "mx\($0).many.test" })
    }
}
