import DNSClient
import Foundation
import MailCore
import Testing

@testable import MailAuth

/// A resolver that answers from one scenario's `zonedata` of the OpenSPF test suite, the way
/// the suite's own driver (pyspf's testspf.py) does: SPF-type records stand in for TXT where a
/// name has no TXT, "TIMEOUT" makes queries time out, CNAMEs are followed.
struct SuiteZone: DNSResolver {
    /// name → records as (type, value) from the JSON.
    nonisolated(unsafe) var zone: [String: [Any]]

    struct Timeout: Error {}

    init(_ data: [String: Any]) {
        var zone: [String: [Any]] = [:]
        for (name, records) in data { zone[name.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))] = records as? [Any] ?? [] }
        self.zone = zone
    }

    static func strings(_ value: Any) -> [[UInt8]]? {
        if let s = value as? String { return s == "NONE" ? nil : [Array(s.utf8)] }
        if let list = value as? [String] { return list.map { Array($0.utf8) } }
        return nil
    }

    func query(_ name: DNSName, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
        var key = name.description.lowercased()
        for _ in 0..<4 {
            guard let entries = zone[key] else { return DNSAnswer(records: [], nameDoesNotExist: true) }
            var records: [DNSRecord] = []
            var cname: String?
            let hasTXT = entries.contains { ($0 as? [String: Any])?["TXT"] != nil }
            for entry in entries {
                if let marker = entry as? String, marker == "TIMEOUT" {
                    if records.isEmpty { throw .timeout }
                    continue
                }
                guard let map = entry as? [String: Any], let (kind, value) = map.first else { continue }
                let owner = try DNSName(key)
                var wanted = kind == type.name
                if kind == "SPF" && type == .txt && !hasTXT { wanted = true }
                if (value as? String) == "TIMEOUT" {
                    if wanted { throw .timeout }
                    continue
                }
                if kind == "CNAME", let target = value as? String { cname = target }
                guard wanted else { continue }
                switch kind {
                case "A": if let s = value as? String, let b = NetworkRange.parseAddress(s), b.count == 4 { records.append(DNSRecord(name: owner, type: 1, ttl: 60, data: .a(b))) }
                case "AAAA": if let s = value as? String, let b = NetworkRange.parseAddress(s), b.count == 16 { records.append(DNSRecord(name: owner, type: 28, ttl: 60, data: .aaaa(b))) }
                case "MX":
                    if let pair = value as? [Any], pair.count == 2, let preference = pair[0] as? Int, let exchange = pair[1] as? String {
                        records.append(DNSRecord(name: owner, type: 15, ttl: 60, data: .mx(preference: UInt16(preference), exchange: try DNSName(exchange))))
                    }
                case "PTR": if let s = value as? String { records.append(DNSRecord(name: owner, type: 12, ttl: 60, data: .ptr(try DNSName(s)))) }
                case "TXT", "SPF": if let strings = Self.strings(value) { records.append(DNSRecord(name: owner, type: 16, ttl: 60, data: .txt(strings))) }
                default: break
                }
            }
            if records.isEmpty, type != .cname, let cname {
                key = cname.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
                continue
            }
            return DNSAnswer(records: records)
        }
        throw .serverFailure(2)
    }
}

extension DNSRecordType {
    var name: String {
        switch self {
        case .a: return "A"
        case .aaaa: return "AAAA"
        case .mx: return "MX"
        case .txt: return "TXT"
        case .ptr: return "PTR"
        case .cname: return "CNAME"
        default: return "\(rawValue)"
        }
    }
}

/// The OpenSPF RFC 7208 test suite (pyspf 2.0.14's test/rfc7208-tests.yml, fetched and turned
/// into JSON by scripts/fetch-test-data; not committed): every case must give one of the
/// results it allows, and the explanation where it names one.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TERN_SPF_SUITE"] != nil || ProcessInfo.processInfo.environment["TERN_REQUIRE_TEST_DATA"] != nil))
struct SPFSuiteTests {
    @Test func everyCaseOfTheRFC7208SuitePasses() async throws {
        let path = ProcessInfo.processInfo.environment["TERN_SPF_SUITE"] ?? "/nonexistent"
        let data = try #require(FileManager.default.contents(atPath: path), "\(path) missing: run scripts/fetch-test-data")
        let scenarios = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        var total = 0
        var failures: [String] = []
        for scenario in scenarios {
            let zone = SuiteZone(scenario["zonedata"] as? [String: Any] ?? [:])
            let verifier = SPFVerifier(resolver: zone, receivingHost: "localhost", now: { 1_700_000_000 })
            for (name, value) in (scenario["tests"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let test = value as? [String: Any] else { continue }
                total += 1
                let expected: [String] = (test["result"] as? [String]) ?? [(test["result"] as? String) ?? "?"]
                let outcome = await verifier.checkMailFrom(
                    ip: test["host"] as? String ?? "", mailFrom: test["mailfrom"] as? String ?? "", helo: test["helo"] as? String ?? "")
                var ok = expected.contains(outcome.result.rawValue)
                if let explanation = test["explanation"] as? String, ok, outcome.result == .fail {
                    ok = (outcome.explanation ?? "DEFAULT") == explanation
                }
                if !ok {
                    failures.append(
                        "\(name): expected \(expected) got \(outcome.result.rawValue) (\(outcome.detail ?? "")) exp=\(outcome.explanation ?? "DEFAULT") want exp=\(test["explanation"] ?? "-")")
                }
            }
        }
        print("RFC 7208 suite: \(total - failures.count) of \(total) cases pass")
        #expect(total >= 200)
        #expect(failures.isEmpty, "\(failures.count) failing:\n\(failures.joined(separator: "\n"))")
    }
}
