import Foundation
import MailAuth
import MailStore

/// The DNS records a hosted domain should publish, as zone-file lines (`NAME TTL IN TYPE VALUE`).
public enum DNSRecordSuggestions {
    public static func records(domain: String, hostname: String, keys: [StoredSigningKey] = []) -> [String] {
        var lines = [
            "\(domain). 3600 IN MX 10 \(hostname).",
            "\(domain). 3600 IN TXT \"v=spf1 mx -all\"",
        ]
        for key in keys {
            guard let signing = try? DKIMSigningKey(domain: key.domain, selector: key.selector, storageText: key.privateKey) else { continue }
            let note = key.state == .retired ? "   ; retired: keep until mail signed with it has been delivered" : ""
            lines.append("\(signing.dnsName). 3600 IN TXT \(zoneText(signing.dnsRecord))\(note)")
        }
        // RFC 7489 §6.7 advice: start with p=none and reports, then tighten.
        lines.append("_dmarc.\(domain). 3600 IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@\(domain)\"")
        return lines
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
