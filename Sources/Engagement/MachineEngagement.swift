import MailCore

/// Tells opens and clicks that no person made: mail privacy proxies that fetch every image
/// when mail arrives (Apple Mail Privacy Protection: a bare `Mozilla/5.0` user agent from
/// Apple's networks), link scanners of mail gateways, `HEAD` requests, and clicks within two
/// seconds of delivery (no one reads that fast). They are recorded, flagged, and left out of
/// unique opens and clicks.
public struct MachineEngagement: Sendable {
    public var proxyNetworks: [NetworkRange]

    /// User-agent fragments of link scanners (case-insensitive).
    static let scannerAgents = [
        "bot", "crawler", "spider", "scanner", "barracuda", "mimecast", "proofpoint", "symantec", "messagelabs", "trendmicro", "forcepoint",
        "safelinks", "urldefense", "linkscan", "preview",
    ]

    public init(proxyNetworks: [NetworkRange]) {
        self.proxyNetworks = proxyNetworks
    }

    public func isMachineOpen(userAgent: String, address: String) -> Bool {
        userAgent.trimmingSpaces() == "Mozilla/5.0" || proxyNetworks.contains { $0.contains(address) }
    }

    public func isMachineClick(head: Bool, userAgent: String, deliveredAt: Int?, now: Int) -> Bool {
        if head { return true }
        if let deliveredAt, now - deliveredAt < 2 { return true }
        let agent = userAgent.lowercased()
        return Self.scannerAgents.contains { agent.contains($0) }
    }
}
