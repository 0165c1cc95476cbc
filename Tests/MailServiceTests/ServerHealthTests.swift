import MailService
import MailStore
import Testing

/// Which readings of a node are warnings, at the edges of each threshold.
@Suite struct ServerHealthTests {
    let now = 1_800_000_000

    @Test func aHealthyNodeHasNoWarnings() {
        let health = ServerHealth(
            hostname: "mx", now: now, startedAt: now - 60, diskFreeBytes: 50 << 30, diskTotalBytes: 100 << 30, queue: [.queued: 3],
            oldestDueAt: now - ServerHealth.deliveryBehindSeconds, webhookBacklog: ServerHealth.webhookBacklogWarning,
            certificateExpiresAt: now + 14 * 86400)
        #expect(health.warnings.isEmpty)
    }

    @Test func eachThresholdWarns() {
        var health = ServerHealth(hostname: "mx", now: now, startedAt: now)
        health.diskFreeBytes = 9 << 30
        health.diskTotalBytes = 100 << 30
        #expect(health.warnings == [.diskLow(freeBytes: 9 << 30, freePercent: 9)])
        // A big disk with less than 1 GiB left warns although the share is above 10%.
        health.diskFreeBytes = 900 << 20
        health.diskTotalBytes = 2 << 30
        #expect(health.warnings == [.diskLow(freeBytes: 900 << 20, freePercent: 43)])
        health.diskFreeBytes = nil

        health.certificateExpiresAt = now + 14 * 86400 - 1
        #expect(health.warnings == [.certificateExpiring(days: 13)])
        health.certificateExpiresAt = now
        #expect(health.warnings == [.certificateExpired])
        health.certificateExpiresAt = nil
        health.certificateSelfSigned = true
        #expect(health.warnings == [.certificateSelfSigned])
        health.certificateSelfSigned = false

        health.oldestDueAt = now - ServerHealth.deliveryBehindSeconds - 1
        #expect(health.warnings == [.deliveryBehind(seconds: ServerHealth.deliveryBehindSeconds + 1)])
        #expect(health.warnings[0].message.contains("due for 5 minutes"))
        health.oldestDueAt = nil
        health.webhookBacklog = ServerHealth.webhookBacklogWarning + 1
        #expect(health.warnings == [.webhookBacklog(events: ServerHealth.webhookBacklogWarning + 1)])
    }
}
