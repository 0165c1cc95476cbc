import Foundation
import MailCore
import MailService
import MailStore
import NIOSSL

/// Reads this node's `ServerHealth`: listeners from the configuration, the store's files and
/// the disk they are on, the queue and webhook backlog from the store, the certificate's expiry.
/// Every read is bounded (counts over indexes, one row of the due queue, `statvfs`).
struct ServerHealthProbe: Sendable {
    let configuration: TernConfiguration
    let store: any ServerStore
    let startedAt: Int

    func read() async -> ServerHealth {
        var health = ServerHealth(hostname: configuration.hostname, now: MessageDate.nowUnixSeconds(), startedAt: startedAt)
        health.listeners = listeners
        health.residentBytes = Self.residentBytes()
        if let storage = try? await store.storageSize() {
            health.storePath = storage.location
            health.storeBytes = storage.bytes
        }
        if let disk = try? FileManager.default.attributesOfFileSystem(forPath: configuration.dataDirectory) {
            health.diskFreeBytes = (disk[.systemFreeSize] as? NSNumber)?.intValue
            health.diskTotalBytes = (disk[.systemSize] as? NSNumber)?.intValue
        }
        health.queue = (try? await store.activeRecipientCounts()) ?? [:]
        health.oldestDueAt = (try? await store.pendingRecipients(limit: 1))?.first?.nextAttemptAt
        health.webhookBacklog = (try? await store.webhookBacklog()) ?? 0
        let certificatePath =
            configuration.tls.certificate.isEmpty
            ? URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("tls/certificate.pem").path : configuration.tls.certificate
        if let certificate = try? NIOSSLCertificate.fromPEMFile(certificatePath).first {
            health.certificateExpiresAt = Int(certificate.notValidAfter)
            health.certificateSelfSigned = configuration.tls.certificate.isEmpty
        }
        return health
    }

    var listeners: [ServerHealth.Listener] {
        let listen = configuration.listen
        let groups: [(String, [ListenAddress], String)] = [
            ("SMTP (MX)", listen.smtp, "STARTTLS"), ("Submission", listen.submission, "STARTTLS"), ("Submission", listen.submissions, "implicit TLS"),
            ("IMAP", listen.imap, "STARTTLS"), ("IMAP", listen.imaps, "implicit TLS"), ("POP3", listen.pop3, "STLS"), ("POP3", listen.pop3s, "implicit TLS"),
            ("HTTP", listen.http, "none"), ("HTTPS", listen.https, "implicit TLS"),
        ]
        return groups.flatMap { service, addresses, tls in addresses.map { ServerHealth.Listener(service: service, address: "\($0)", tls: tls) } }
    }

    /// Resident set size from `/proc/self/statm` (Linux); nil elsewhere.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
