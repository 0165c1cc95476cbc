import Testing

@testable import Delivery

@Suite struct IdleSessionPoolTests {
    let t0 = Duration.seconds(100)

    @Test func wakesOldestFirstPerDestination() {
        var pool = IdleSessionPool<String>()
        pool.park("a1", for: "a.test", at: t0)
        pool.park("b1", for: "b.test", at: t0)
        pool.park("a2", for: "a.test", at: t0 + .seconds(1))
        #expect(pool.count == 3)
        #expect(pool.wake("a.test", count: 1) == ["a1"])
        #expect(pool.wake("a.test", count: 5) == ["a2"])
        #expect(pool.wake("a.test", count: 5) == [])
        #expect(pool.wake("b.test", count: 0) == [])
        #expect(pool.count == 1)
    }

    @Test func expiresOnlyWhatWaitedItsIdleTime() {
        var pool = IdleSessionPool<String>()
        pool.park("old", for: "a.test", at: t0)
        pool.park("new", for: "a.test", at: t0 + .seconds(2))
        #expect(pool.expire(at: t0 + .seconds(1), limit: .seconds(2)) == [])
        #expect(pool.expire(at: t0 + .seconds(2), limit: .seconds(2)) == ["old"])
        #expect(pool.expire(at: t0 + .seconds(10), limit: .seconds(2)) == ["new"])
        #expect(pool.isEmpty)
    }

    @Test func givesASlotUpOnlyFromAnotherDestination() {
        var pool = IdleSessionPool<String>()
        pool.park("a1", for: "a.test", at: t0)
        #expect(pool.takeOne(except: "a.test") == nil)
        pool.park("b1", for: "b.test", at: t0)
        #expect(pool.takeOne(except: "a.test") == "b1")
        pool.park("c1", for: "c.test", at: t0)
        #expect(Set(pool.takeAll()) == ["a1", "c1"])
        #expect(pool.isEmpty && pool.count == 0)
    }
}
