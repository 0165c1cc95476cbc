import MailService
import Testing

@Suite struct AbuseLimitsTests {
    let t0 = ContinuousClock.now

    func limits(delayAfter: Int = 3, blockAfter: Int = 10, connections: Int = 100, perClient: Int = 100, rate: Int = 0) -> AbuseLimits {
        AbuseLimits(
            settings: AbuseLimits.Settings(
                maximumConnections: connections, maximumConnectionsPerClient: perClient, maximumConnectionRatePerMinute: rate,
                authFailuresBeforeDelay: delayAfter, authFailuresBeforeBlock: blockAfter, authFailureWindow: .seconds(15 * 60),
                authBlockTime: .seconds(5 * 60)))
    }

    @Test func authFailuresSlowThenBlock() {
        let limits = limits(delayAfter: 3, blockAfter: 6)
        let answers = (0..<6).map { limits.loginFailed(from: "192.0.2.1", protocol: "smtp", now: t0 + .seconds($0)) }
        #expect(answers.map(\.delay) == [.zero, .zero, .zero, .seconds(1), .seconds(2), .seconds(3)])
        #expect(answers.map(\.blocked) == [false, false, false, false, false, true])
        #expect(limits.loginBlocked(from: "192.0.2.1", now: t0 + .seconds(4 * 60)))
        #expect(!limits.loginBlocked(from: "192.0.2.2", now: t0 + .seconds(4 * 60)))  // other addresses unaffected
        #expect(!limits.loginBlocked(from: "192.0.2.1", now: t0 + .seconds(6 * 60)))  // cool-down over
    }

    @Test func delayIsCappedAndWindowExpires() {
        let limits = limits(delayAfter: 1, blockAfter: 100)
        var last = Duration.zero
        for i in 0..<20 { last = limits.loginFailed(from: "a", protocol: "smtp", now: t0 + .seconds(i)).delay }
        #expect(last == .seconds(5))
        #expect(limits.loginFailed(from: "a", protocol: "smtp", now: t0 + .seconds(30 * 60)).delay == .zero)  // a new window
        limits.loginSucceeded(from: "a")
        #expect(limits.loginFailed(from: "a", protocol: "smtp", now: t0 + .seconds(31 * 60)).delay == .zero)
    }

    @Test func connectionRatePerMinute() {
        let limits = limits(rate: 3)
        #expect((0..<3).map { _ in limits.openConnection(from: "a", now: t0) } == [nil, nil, nil])
        #expect(limits.openConnection(from: "a", now: t0 + .seconds(1)) == .connectionRate)
        #expect(limits.openConnection(from: "b", now: t0 + .seconds(1)) == nil)
        #expect(limits.openConnection(from: "a", now: t0 + .seconds(61)) == nil)
        let capped = self.limits(connections: 2, perClient: 1)
        #expect(capped.openConnection(from: "a", now: t0) == nil)
        #expect(capped.openConnection(from: "a", now: t0) == .tooManyConnections)
        #expect(capped.openConnection(from: "b", now: t0) == nil)
        #expect(capped.openConnection(from: "c", now: t0) == .tooManyConnections)
        capped.closeConnection(from: "a")
        #expect(capped.openConnection(from: "c", now: t0) == nil)
        #expect(capped.openConnections == 2)
    }

    /// One IPv6 host holds a /64: its other addresses share its count; the next /64 does not.
    @Test func ipv6ClientsAreCountedBySlash64() {
        let limits = limits(delayAfter: 1, blockAfter: 3)
        _ = limits.loginFailed(from: "2001:db8:1:2::1", protocol: "smtp", now: t0)
        _ = limits.loginFailed(from: "2001:db8:1:2:aaaa::7", protocol: "smtp", now: t0)
        #expect(limits.loginFailed(from: "2001:db8:1:2:ffff:ffff:ffff:ffff", protocol: "smtp", now: t0).blocked)
        #expect(limits.loginBlocked(from: "2001:db8:1:2::99", now: t0 + .seconds(1)))
        #expect(!limits.loginBlocked(from: "2001:db8:1:3::1", now: t0 + .seconds(1)))
        let capped = self.limits(perClient: 1)
        #expect(capped.openConnection(from: "2001:db8::1", now: t0) == nil)
        #expect(capped.openConnection(from: "2001:db8::2", now: t0) == .tooManyConnections)
        #expect(capped.openConnection(from: "2001:db9::1", now: t0) == nil)
    }

    @Test func clientKeys() {
        #expect(ClientKey(address: "192.0.2.1").description == "192.0.2.1")
        #expect(ClientKey(address: "2001:db8:0:1:2:3:4:5").description == "2001:db8:0:1::/64")
        #expect(ClientKey(address: "::ffff:192.0.2.9").description == "192.0.2.9")
        #expect(ClientKey(address: "::1") == ClientKey(address: "::2"))
        #expect(ClientKey(address: "unknown").description == "unknown")
    }

    /// The tables stay bounded whatever a flood of clients does.
    @Test func failureTableIsBounded() {
        let limits = limits(delayAfter: 1, blockAfter: 1000)
        for i in 0..<(AbuseLimits.maximumTrackedClients + 10) {
            _ = limits.loginFailed(from: "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)", protocol: "smtp", now: t0)
        }
        // The last address is still counted, so the table kept working after it was emptied.
        #expect(limits.loginFailed(from: "10.1.134.169", protocol: "smtp", now: t0).delay == .seconds(1))
    }
}
