import Foundation
import MailAuth
import MailStore

/// One record to publish.
public struct DomainRecord: Hashable, Sendable {
    /// The owner name, without the trailing dot.
    public var name: String
    public var type: String
    /// The record's data as its RDATA reads: `10 mx.example.test.` for MX, the whole text for
    /// TXT (however many 255-byte strings it is published in).
    public var value: String
    public var ttl = 3600
    /// Said after the zone line as a comment.
    public var note: String?

    public init(name: String, type: String, value: String, ttl: Int = 3600, note: String? = nil) {
        self.name = name
        self.type = type
        self.value = value
        self.ttl = ttl
        self.note = note
    }

    /// `NAME TTL IN TYPE VALUE`, TXT values split into quoted strings.
    public var zoneLine: String {
        let data = type == "TXT" ? DNSRecordSuggestions.zoneText(value) : value
        return "\(name). \(ttl) IN \(type) \(data)" + (note.map { "   ; \($0)" } ?? "")
    }
}

/// The DNS records a hosted domain should publish: MX, SPF, every DKIM key, DMARC.
public enum DNSRecordSuggestions {
    public static func records(domain: String, hostname: String, keys: [StoredSigningKey] = []) -> [DomainRecord] {
        var records = [
            DomainRecord(name: domain, type: "MX", value: "10 \(hostname)."),
            DomainRecord(name: domain, type: "TXT", value: "v=spf1 mx -all"),
        ]
        for key in keys {
            guard let signing = try? DKIMSigningKey(domain: key.domain, selector: key.selector, storageText: key.privateKey) else { continue }
            let note = key.state == .retired ? "retired: keep until mail signed with it has been delivered" : nil
            records.append(DomainRecord(name: signing.dnsName, type: "TXT", value: signing.dnsRecord, note: note))
        }
        // RFC 7489 §6.7 advice: start with p=none and reports, then tighten.
        records.append(DomainRecord(name: "_dmarc.\(domain)", type: "TXT", value: "v=DMARC1; p=none; rua=mailto:postmaster@\(domain)"))
        return records
    }

    public static let advice = """
        Start DMARC at p=none and read the aggregate reports sent to the rua= address. When they
        show only your own servers sending as the domain, and DKIM and SPF pass for them, move to
        p=quarantine and then p=reject. Publish the DKIM record before sending: mail signed with a
        key that is not in DNS fails DKIM.
        """

    /// A TXT value as zone-file character-strings of at most 255 bytes (RFC 1035 §3.3.14): a
    /// 2048-bit key's record is longer than one string may be.
    public static func zoneText(_ value: String) -> String {
        var parts: [String] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            parts.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return parts.joined(separator: " ")
    }

    /// The default selector: `tern` and the date, so a rotation gets a new name (RFC 6376 §3.1).
    public static func defaultSelector(now: Date = Date(), taken: Set<String> = []) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd"
        let base = "tern\(formatter.string(from: now))"
        if !taken.contains(base) { return base }
        for suffix in "bcdefghijklmnopqrstuvwxyz" where !taken.contains(base + String(suffix)) { return base + String(suffix) }
        return base + String(Int(now.timeIntervalSince1970))
    }
}
