import DNSClient
import MailAuth
import MailStore

/// `tern domain check` and the dashboard's domains page: are the records `tern domain add`
/// asked for published, and if not, what to publish? Over any `DNSResolver`.
public enum DomainCheck {
    public struct Finding: Sendable {
        public var record: String
        public var ok: Bool
        public var detail: String
    }

    public static func run(domain: String, hostname: String, resolver: any DNSResolver, keys: [StoredSigningKey] = []) async -> [Finding] {
        var findings: [Finding] = []
        guard let name = try? DNSName(domain), let host = try? DNSName(hostname), let dmarc = try? DNSName("_dmarc." + domain) else {
            return [Finding(record: "domain", ok: false, detail: "not a valid name")]
        }
        do {
            let mx = try await resolver.mx(name)
            let found = mx.map { "\($0.preference) \($0.exchange)" }.joined(separator: ", ")
            findings.append(
                Finding(record: "MX", ok: mx.contains { $0.exchange == host }, detail: mx.isEmpty ? "no MX record" : found))
        } catch {
            findings.append(Finding(record: "MX", ok: false, detail: "lookup failed: \(error)"))
        }
        do {
            let spf = try await resolver.txt(name).filter { $0.lowercased().hasPrefix("v=spf1") }
            var detail = spf.isEmpty ? "no v=spf1 TXT record; publish: \"v=spf1 mx -all\"" : spf.joined(separator: " | ")
            if spf.count > 1 { detail += " (several SPF records: receivers treat that as an error, RFC 7208 §4.5)" }
            let error = spf.count == 1 ? SPFVerifier.syntaxError(in: spf[0]) : nil
            if let error { detail += " (invalid: \(error))" }
            findings.append(Finding(record: "SPF", ok: spf.count == 1 && error == nil, detail: detail))
        } catch {
            findings.append(Finding(record: "SPF", ok: false, detail: "lookup failed: \(error)"))
        }
        for key in keys {
            guard let signing = try? DKIMSigningKey(domain: key.domain, selector: key.selector, storageText: key.privateKey),
                let name = try? DNSName(signing.dnsName)
            else { continue }
            let label = "DKIM \(key.selector)\(key.state == .retired ? " (retired)" : "")"
            do {
                let published = try await resolver.txt(name)
                let expected = try? DKIMKeyRecord(parsing: signing.dnsRecord)
                let matches = published.contains { (try? DKIMKeyRecord(parsing: $0))?.publicKey == expected?.publicKey }
                let detail: String
                if matches {
                    detail = "\(signing.dnsName) publishes this key"
                } else if published.isEmpty {
                    detail = "no TXT record at \(signing.dnsName); publish: \(DNSRecordSuggestions.zoneText(signing.dnsRecord))"
                } else {
                    detail = "\(signing.dnsName) publishes a different key; replace it with: \(DNSRecordSuggestions.zoneText(signing.dnsRecord))"
                }
                findings.append(Finding(record: label, ok: matches, detail: detail))
            } catch {
                findings.append(Finding(record: label, ok: false, detail: "lookup failed: \(error)"))
            }
        }
        do {
            let records = try await resolver.txt(dmarc).filter { $0.hasPrefix("v=DMARC1") }
            var detail = records.isEmpty ? "no v=DMARC1 TXT record at _dmarc; publish: \"v=DMARC1; p=none; rua=mailto:postmaster@\(domain)\"" : records.joined(separator: " | ")
            if records.count > 1 { detail += " (several records: receivers apply none of them)" }
            if records.count == 1, let record = DMARCRecord(parsing: records[0]), record.policy == .none {
                detail += " (p=none: once reports show only your servers, move to p=quarantine, then p=reject)"
            }
            findings.append(Finding(record: "DMARC", ok: records.count == 1 && DMARCRecord(parsing: records[0]) != nil, detail: detail))
        } catch {
            findings.append(Finding(record: "DMARC", ok: false, detail: "lookup failed: \(error)"))
        }
        return findings
    }
}
