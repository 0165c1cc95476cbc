/// The DNS records a hosted domain should publish, as zone-file lines (`NAME TTL IN TYPE VALUE`).
/// DKIM joins these when signing exists.
public enum DNSRecordSuggestions {
    public static func records(domain: String, hostname: String) -> [String] {
        [
            "\(domain). 3600 IN MX 10 \(hostname).",
            "\(domain). 3600 IN TXT \"v=spf1 mx -all\"",
            "_dmarc.\(domain). 3600 IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@\(domain)\"",
        ]
    }
}
