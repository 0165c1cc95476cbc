import DNSClient
import DNSClientNIO
import Foundation
import NIOPosix

/// The resolver every part of Tern uses: `[dns] nameservers`, else /etc/resolv.conf.
public enum TernDNS {
    public static func resolver(configuration: TernConfiguration) -> StubResolver {
        var servers = configuration.dns.nameservers.map { DNSServerAddress(host: $0.host, port: $0.port) }
        if servers.isEmpty, let text = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) {
            servers = DNSServerAddress.fromResolvConf(text)
        }
        return StubResolver(nameservers: servers, transport: NIODNSTransport(group: MultiThreadedEventLoopGroup.singleton))
    }
}

/// `tern domain check`: are the records `tern domain add` asked for published?
public enum DomainCheck {
    public struct Finding: Sendable {
        public var record: String
        public var ok: Bool
        public var detail: String
    }

    public static func run(domain: String, hostname: String, resolver: any DNSResolver) async -> [Finding] {
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
            findings.append(
                Finding(record: "SPF", ok: spf.count == 1, detail: spf.isEmpty ? "no v=spf1 TXT record" : spf.joined(separator: " | ")))
        } catch {
            findings.append(Finding(record: "SPF", ok: false, detail: "lookup failed: \(error)"))
        }
        do {
            let records = try await resolver.txt(dmarc).filter { $0.hasPrefix("v=DMARC1") }
            findings.append(
                Finding(record: "DMARC", ok: records.count == 1, detail: records.isEmpty ? "no v=DMARC1 TXT record at _dmarc" : records[0]))
        } catch {
            findings.append(Finding(record: "DMARC", ok: false, detail: "lookup failed: \(error)"))
        }
        return findings
    }
}
