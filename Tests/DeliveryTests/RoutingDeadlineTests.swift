import DNSClient
import Foundation
import MailCore
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

/// Issue 12 item 4: addresses learned from public DNS that point inside (loopback, private,
/// link-local, CGNAT, unspecified), MX names that are IP literals or carry bytes a header cannot,
/// are never dialled unless allowed.
@Suite struct NonPublicDestinationTests {
    static let records: [DNSRecord] = [
        DNSRecord(name: name("inside.test"), type: 15, ttl: 300, data: .mx(preference: 10, exchange: name("mx.inside.test"))),
        DNSRecord(name: name("mx.inside.test"), type: 1, ttl: 300, data: .a([127, 0, 0, 9])),
        DNSRecord(name: name("mixed.test"), type: 15, ttl: 300, data: .mx(preference: 10, exchange: name("mx.mixed.test"))),
        DNSRecord(name: name("mx.mixed.test"), type: 1, ttl: 300, data: .a([10, 1, 2, 3])),
        DNSRecord(name: name("mx.mixed.test"), type: 1, ttl: 300, data: .a([192, 0, 2, 40])),
        DNSRecord(name: name("literal.test"), type: 15, ttl: 300, data: .mx(preference: 10, exchange: name("127.0.0.9"))),
        DNSRecord(name: name("cgnat.test"), type: 1, ttl: 300, data: .a([100, 64, 0, 1])),
        DNSRecord(name: name("mapped.test"), type: 28, ttl: 300, data: .aaaa([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 168, 1, 1])),
        DNSRecord(
            name: name("evil.test"), type: 15, ttl: 300, data: .mx(preference: 10, exchange: try! DNSName(labels: [Array("mx\r\nX-Evil: 1".utf8), Array("test".utf8)]))),
    ]

    func router(allow: Bool) -> DeliveryRouter {
        DeliveryRouter(
            resolver: ZoneResolver(records: Self.records), routes: ["routed.test": StaticRoute(host: "127.0.0.5", port: 2526)], port: 25,
            isLocal: { _ in false }, allowPrivateDestinations: allow, shuffle: { $0 })
    }

    func refusal(_ domain: String) async -> SMTPReply? {
        guard case .unroutable(let reply) = await router(allow: false).route(domain: domain) else { return nil }
        return reply
    }

    @Test func nonPublicAddressesBounceWith544() async {
        for domain in ["inside.test", "literal.test", "cgnat.test", "mapped.test", "evil.test", "[127.0.0.1]", "[10.0.0.1]", "[IPv6:::1]", "[IPv6:fe80::1]"] {
            let reply = await refusal(domain)
            #expect(reply?.code == 550 && reply?.enhanced == EnhancedStatus(5, 4, 4), "\(domain): \(String(describing: reply))")
        }
        // Only the public address of a host with both is dialled.
        #expect(
            await router(allow: false).route(domain: "mixed.test")
                == .remote(destination: "mixed.test", hops: [NextHop(host: "mx.mixed.test", addresses: ["192.0.2.40"], port: 25)]))
        // A static route is the operator's word.
        #expect(
            await router(allow: false).route(domain: "routed.test")
                == .remote(destination: "127.0.0.5:2526", hops: [NextHop(host: "127.0.0.5", addresses: ["127.0.0.5"], port: 2526)]))
    }

    @Test func allowedWhenConfigured() async {
        #expect(
            await router(allow: true).route(domain: "inside.test")
                == .remote(destination: "inside.test", hops: [NextHop(host: "mx.inside.test", addresses: ["127.0.0.9"], port: 25)]))
        // A name with CR LF is never a host, allowed or not.
        guard case .unroutable = await router(allow: true).route(domain: "evil.test") else {
            Issue.record("evil.test routed")
            return
        }
    }

    @Test func addressClassification() {
        for ip in ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.1.1", "100.64.0.1", "0.0.0.0", "::", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:c0a8:101::1", "224.0.0.1", "255.255.255.255", "not an ip"] {
            #expect(!DestinationAddress.isPublic(ip), "\(ip)")
        }
        for ip in ["8.8.8.8", "192.0.2.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "100.128.0.1", "172.32.0.1"] {
            #expect(DestinationAddress.isPublic(ip), "\(ip)")
        }
    }
}

/// Connects to 192.0.2.66 hang until released (a tarpit that accepts and never greets);
/// everything else goes to the fake.
final class TarpitConnector: OutboundConnector {
    let base = FakeConnector()
    let released = Mutex(false)
    let hanging = Mutex((now: 0, most: 0))

    func connect(host: String, address: String, port: Int) async -> Result<any OutboundConnection, ConnectFailure> {
        guard address == "192.0.2.66" else { return await base.connect(host: host, address: address, port: port) }
        hanging.withLock {
            $0.now += 1
            $0.most = max($0.most, $0.now)
        }
        while !released.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        hanging.withLock { $0.now -= 1 }
        return .failure(ConnectFailure(reply: SMTPReply(451, EnhancedStatus(4, 4, 2), "Timed out waiting for the remote server"), fromRemote: false))
    }
}

/// Issue 12 item 11: a destination that stalls holds only its small initial window of
/// sessions, so the connection slots other destinations need stay free.
@Suite struct TarpitTests {
    @Test func aTarpitDoesNotStarveOtherDestinations() async throws {
        let connector = TarpitConnector()
        let resolver = ZoneResolver(records: zone.records + [DNSRecord(name: name("tarpit.test"), type: 1, ttl: 300, data: .a([192, 0, 2, 66]))])
        let h = try Harness(connector: connector.base, settings: { $0.maxConnections = 8 }, resolver: resolver, outbound: connector)
        for i in 0..<200 { try await h.enqueue(to: ["victim\(i)@tarpit.test"]) }
        let fast = try await h.enqueue(to: ["b@example.net"])
        let scheduler = h.scheduler
        let run = Task { await scheduler.runUntilIdle() }
        #expect(await eventually(10) { connector.base.sent.count == 1 })
        #expect(try await eventually(10) { try await h.message(fast).recipients[0].state == .delivered })
        #expect(connector.hanging.withLock { $0.most } <= DeliveryScheduler.initialWindow)
        connector.released.withLock { $0 = true }
        await run.value
    }
}
