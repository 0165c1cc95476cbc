import Synchronization
import Testing

@testable import DNSClient

private func name(_ s: String) -> DNSName { try! DNSName(s) }

/// A transport whose servers answer with a function of the query; it records every exchange.
final class FakeTransport: DNSTransport {
    struct Call: Equatable {
        var server: DNSServerAddress
        var overTCP: Bool
    }

    let calls = Mutex<[Call]>([])
    let answer: @Sendable (DNSMessage, DNSServerAddress, Bool) throws(DNSError) -> DNSMessage

    init(answer: @escaping @Sendable (DNSMessage, DNSServerAddress, Bool) throws(DNSError) -> DNSMessage) {
        self.answer = answer
    }

    func exchange(_ query: [UInt8], with server: DNSServerAddress, overTCP: Bool, timeout: Duration) async throws(DNSError) -> [UInt8] {
        calls.withLock { $0.append(Call(server: server, overTCP: overTCP)) }
        let message = try DNSMessageCodec.decode(query)
        return DNSMessageCodec.encode(try answer(message, server, overTCP))
    }

    var count: Int { calls.withLock { $0.count } }
}

/// A response to `query` carrying `answers`.
func reply(_ query: DNSMessage, code: UInt8 = 0, truncated: Bool = false, answers: [DNSRecord] = [], authority: [DNSRecord] = [])
    -> DNSMessage
{
    DNSMessage(
        id: query.id, isResponse: true, truncated: truncated, recursionAvailable: true, responseCode: code, questions: query.questions,
        answers: answers, authority: authority)
}

final class ManualClock: Sendable {
    let value = Mutex<UInt64>(1_000_000_000)
    func advance(seconds: UInt64) { value.withLock { $0 += seconds * 1_000_000_000 } }
    var now: UInt64 { value.withLock { $0 } }
}

@Suite struct StubResolverTests {
    let primary = DNSServerAddress(host: "127.0.0.1", port: 5353)
    let secondary = DNSServerAddress(host: "127.0.0.2", port: 5353)

    @Test func answersAndCachesForTheTTL() async throws {
        let transport = FakeTransport { query, _, _ in
            reply(query, answers: [DNSRecord(name: query.questions[0].name, type: 1, ttl: 30, data: .a([192, 0, 2, 1]))])
        }
        let clock = ManualClock()
        let resolver = StubResolver(nameservers: [primary], transport: transport, now: { clock.now })
        #expect(try await resolver.addresses(name("mx.test")).first == [192, 0, 2, 1])
        let afterFirst = transport.count  // A and AAAA
        _ = try await resolver.query(name("mx.test"), .a)
        #expect(transport.count == afterFirst)  // cached
        clock.advance(seconds: 31)
        _ = try await resolver.query(name("mx.test"), .a)
        #expect(transport.count == afterFirst + 1)  // expired
    }

    @Test func negativeAnswersCachedForSOAMinimum() async throws {
        let transport = FakeTransport { query, _, _ in
            reply(query, code: 3, authority: [DNSRecord(name: name("test"), type: 6, ttl: 3600, data: .soa(minimum: 120))])
        }
        let clock = ManualClock()
        let resolver = StubResolver(nameservers: [primary], transport: transport, now: { clock.now })
        #expect(try await resolver.query(name("nowhere.test"), .mx).nameDoesNotExist)
        clock.advance(seconds: 119)
        #expect(try await resolver.query(name("nowhere.test"), .mx).nameDoesNotExist)
        #expect(transport.count == 1)
        clock.advance(seconds: 2)
        _ = try await resolver.query(name("nowhere.test"), .mx)
        #expect(transport.count == 2)
    }

    @Test func servfailAndTimeoutMoveToTheNextServer() async throws {
        let transport = FakeTransport { query, server, _ throws(DNSError) in
            if server.host == "127.0.0.1" { throw DNSError.timeout }
            return reply(query, answers: [DNSRecord(name: query.questions[0].name, type: 15, ttl: 60, data: .mx(preference: 5, exchange: name("mx.test")))])
        }
        let resolver = StubResolver(nameservers: [primary, secondary], transport: transport)
        #expect(try await resolver.mx(name("d.test")).map(\.preference) == [5])
        #expect(transport.calls.withLock { $0.map(\.server) } == [primary, secondary])

        let failing = FakeTransport { query, _, _ in reply(query, code: 2) }
        let resolver2 = StubResolver(nameservers: [primary, secondary], transport: failing, attempts: 2)
        await #expect(throws: DNSError.serverFailure(2)) { try await resolver2.query(name("d.test"), .mx) }
        #expect(failing.count == 4)  // two rounds over two servers
    }

    @Test func aFailureIsRememberedBriefly() async throws {
        let transport = FakeTransport { _, _, _ throws(DNSError) in throw DNSError.timeout }
        let clock = ManualClock()
        let resolver = StubResolver(nameservers: [primary], transport: transport, attempts: 2, now: { clock.now })
        await #expect(throws: DNSError.timeout) { try await resolver.query(name("d.test"), .txt) }
        #expect(transport.count == 2)
        // Within the failure TTL: the same error at once, no new exchange.
        clock.advance(seconds: UInt64(StubResolver.failureTTL) - 1)
        await #expect(throws: DNSError.timeout) { try await resolver.query(name("d.test"), .txt) }
        #expect(transport.count == 2)
        // Another name or type is asked; after the TTL the name is asked again.
        await #expect(throws: DNSError.timeout) { try await resolver.query(name("d.test"), .a) }
        #expect(transport.count == 4)
        clock.advance(seconds: 2)
        await #expect(throws: DNSError.timeout) { try await resolver.query(name("d.test"), .txt) }
        #expect(transport.count == 6)
    }

    @Test func truncatedAnswerIsAskedAgainOverTCP() async throws {
        let transport = FakeTransport { query, _, overTCP in
            overTCP
                ? reply(query, answers: [DNSRecord(name: query.questions[0].name, type: 16, ttl: 60, data: .txt([Array("big".utf8)]))])
                : reply(query, truncated: true)
        }
        let resolver = StubResolver(nameservers: [primary], transport: transport)
        #expect(try await resolver.txt(name("d.test")) == ["big"])
        #expect(transport.calls.withLock { $0.map(\.overTCP) } == [false, true])
    }

    @Test func answersToAnotherQuestionAreRefused() async throws {
        let transport = FakeTransport { query, _, _ in
            var forged = reply(query, answers: [DNSRecord(name: name("evil.test"), type: 1, ttl: 60, data: .a([6, 6, 6, 6]))])
            forged.id &+= 1
            return forged
        }
        let resolver = StubResolver(nameservers: [primary], transport: transport, attempts: 1)
        await #expect(throws: DNSError.invalidRecordData) { try await resolver.query(name("d.test"), .a) }
    }

    @Test func cnameChainsInTheAnswerAreFollowed() async throws {
        let transport = FakeTransport { query, _, _ in
            reply(
                query,
                answers: [
                    DNSRecord(name: name("mx.test"), type: 5, ttl: 60, data: .cname(name("host.test"))),
                    DNSRecord(name: name("host.test"), type: 1, ttl: 60, data: .a([127, 0, 0, 3])),
                ])
        }
        let resolver = StubResolver(nameservers: [primary], transport: transport)
        #expect(try await resolver.query(name("mx.test"), .a).records.map(\.data) == [.a([127, 0, 0, 3])])
    }

    @Test func resolvConf() {
        let text = "# comment\nsearch example.com\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\noptions edns0\n"
        #expect(DNSServerAddress.fromResolvConf(text) == [DNSServerAddress(host: "127.0.0.53"), DNSServerAddress(host: "fe80::1")])
    }
}

/// A transport that answers only once released (a slow or hostile nameserver).
final class HeldTransport: DNSTransport {
    let started = Atomic<Int>(0)
    let released = Atomic<Bool>(false)

    func exchange(_ query: [UInt8], with server: DNSServerAddress, overTCP: Bool, timeout: Duration) async throws(DNSError) -> [UInt8] {
        started.add(1, ordering: .relaxed)
        while !released.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(5)) }
        let message = try DNSMessageCodec.decode(query)
        return DNSMessageCodec.encode(reply(message))
    }
}

final class ResultBox: Sendable {
    private let value = Mutex<[Result<DNSAnswer, DNSError>]>([])
    func withLock<T>(_ body: (inout [Result<DNSAnswer, DNSError>]) -> T) -> T { value.withLock { body(&$0) } }
}

/// Issue 12 item 2: outstanding queries are capped across all callers, and a cancelled caller
/// asks nothing more.
@Suite struct ResolverBoundsTests {
    @Test func outstandingQueriesAreCapped() async throws {
        let transport = HeldTransport()
        let resolver = StubResolver(nameservers: [DNSServerAddress(host: "127.0.0.1", port: 5353)], transport: transport)
        let total = StubResolver.maximumOutstanding + 100
        let results = ResultBox()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<total {
                group.addTask {
                    let result: Result<DNSAnswer, DNSError>
                    do { result = .success(try await resolver.query(name("n\(i).test"), .txt)) } catch { result = .failure(error as! DNSError) }
                    results.withLock { $0.append(result) }
                }
            }
            // Wait until the cap is reached and the rest were turned away, then release.
            for _ in 0..<2000 where results.withLock({ $0.count }) < 100 || transport.started.load(ordering: .relaxed) < StubResolver.maximumOutstanding {
                try? await Task.sleep(for: .milliseconds(5))
            }
            #expect(resolver.outstandingQueries == StubResolver.maximumOutstanding)
            #expect(transport.started.load(ordering: .relaxed) == StubResolver.maximumOutstanding)
            transport.released.store(true, ordering: .relaxed)
        }
        let all = results.withLock { $0 }
        #expect(all.filter { if case .failure(.notAsked) = $0 { true } else { false } }.count == 100)
        #expect(all.filter { if case .success = $0 { true } else { false } }.count == StubResolver.maximumOutstanding)
        #expect(resolver.outstandingQueries == 0)
    }

    @Test func aCancelledCallerAsksNothing() async throws {
        let transport = FakeTransport { query, _, _ in reply(query) }
        let resolver = StubResolver(nameservers: [DNSServerAddress(host: "127.0.0.1", port: 5353)], transport: transport)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await resolver.query(name("cancelled.test"), .txt)
        }
        await #expect(throws: DNSError.notAsked) { try await task.value }
        #expect(transport.count == 0)
    }
}
