import NIOCore
import SMTPServer
import Testing

@Suite struct AbuseLimitTests {
    @Test func authFailuresSlowThenBlock() {
        let throttle = AuthFailureThrottle(delayAfter: 3, blockAfter: 6, window: .minutes(15), blockTime: .minutes(5))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
        let answers = (0..<6).map { throttle.recordFailure("192.0.2.1", now: t0 + .seconds(Int64($0))) }
        #expect(answers.map(\.delay) == [.zero, .zero, .zero, .seconds(1), .seconds(2), .seconds(3)])
        #expect(answers.map(\.blocked) == [false, false, false, false, false, true])
        #expect(throttle.isBlocked("192.0.2.1", now: t0 + .minutes(4)))
        #expect(!throttle.isBlocked("192.0.2.2", now: t0 + .minutes(4)))  // other addresses unaffected
        #expect(!throttle.isBlocked("192.0.2.1", now: t0 + .minutes(6)))  // cool-down over
    }

    @Test func delayIsCappedAndWindowExpires() {
        let throttle = AuthFailureThrottle(delayAfter: 1, blockAfter: 100, window: .minutes(15), blockTime: .minutes(5))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
        var last = TimeAmount.zero
        for i in 0..<20 { last = throttle.recordFailure("a", now: t0 + .seconds(Int64(i))).delay }
        #expect(last == .seconds(5))
        #expect(throttle.recordFailure("a", now: t0 + .minutes(30)).delay == .zero)  // a new window
        throttle.recordSuccess("a")
        #expect(throttle.recordFailure("a", now: t0 + .minutes(31)).delay == .zero)
    }

    @Test func connectionRatePerMinute() {
        let limiter = ConnectionLimiter(maximumTotal: 100, maximumPerAddress: 100, maximumRatePerMinute: 3)
        #expect((0..<3).map { _ in limiter.acquire("a", minute: 7) } == [nil, nil, nil])
        #expect(limiter.acquire("a", minute: 7) == .connectionRate)
        #expect(limiter.acquire("b", minute: 7) == nil)
        #expect(limiter.acquire("a", minute: 8) == nil)
        let capped = ConnectionLimiter(maximumTotal: 2, maximumPerAddress: 1)
        #expect(capped.acquire("a", minute: 1) == nil)
        #expect(capped.acquire("a", minute: 1) == .tooManyConnections)
        #expect(capped.acquire("b", minute: 1) == nil)
        #expect(capped.acquire("c", minute: 1) == .tooManyConnections)
        capped.release("a")
        #expect(capped.acquire("c", minute: 1) == nil)
    }
}
