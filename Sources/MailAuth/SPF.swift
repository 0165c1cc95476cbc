import DNSClient
import Foundation

/// The seven results of check_host() (RFC 7208 §2.6).
public enum SPFResult: String, Sendable, Equatable {
    case none, neutral, pass, fail, softfail, temperror, permerror
}

/// A check's result with what led to it.
public struct SPFOutcome: Sendable, Equatable {
    public var result: SPFResult
    /// The domain whose policy was checked (the MAIL FROM domain or the HELO name).
    public var domain: String
    /// The expanded `exp=` text on a fail, when the domain publishes one (§6.2).
    public var explanation: String?
    /// The directive that matched, or why there is an error, for logs and headers.
    public var detail: String?

    public init(result: SPFResult, domain: String, explanation: String? = nil, detail: String? = nil) {
        self.result = result
        self.domain = domain
        self.explanation = explanation
        self.detail = detail
    }
}

/// check_host() of RFC 7208 over a `DNSResolver`, with the limits of §4.6.4: at most 10 terms
/// that query DNS, 10 MX and 10 PTR names per term, and 2 void lookups.
public struct SPFVerifier: Sendable {
    public let resolver: any DNSResolver
    /// This host's name, for `%{r}` in explanations.
    public var receivingHost: String
    public var now: @Sendable () -> Int

    public static let maximumDNSTerms = 10
    public static let maximumVoidLookups = 2

    public init(resolver: any DNSResolver, receivingHost: String = "unknown", now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.resolver = resolver
        self.receivingHost = receivingHost
        self.now = now
    }

    /// Why `record` is not a valid SPF record (§4.5, §4.6, §12), or nil when it is; for
    /// `tern domain check` and the fuzzer.
    public static func syntaxError(in record: String) -> String? {
        let bytes = Array(record.utf8)
        guard SPFRecord.isSPF(bytes) else { return "does not start with \"v=spf1\"" }
        do {
            _ = try SPFRecord(parsing: bytes)
            return nil
        } catch {
            return error.description
        }
    }

    /// The MAIL FROM identity (§2.4); with a null reverse path, the HELO identity's
    /// postmaster stands in.
    public func checkMailFrom(ip: String, mailFrom: String, helo: String) async -> SPFOutcome {
        var sender = mailFrom
        if sender.isEmpty { sender = "postmaster@\(helo)" }
        guard let at = sender.lastIndex(of: "@") else { return await checkHost(ip: ip, domain: sender, sender: "postmaster@\(sender)", helo: helo) }
        var local = String(sender[..<at])
        if local.isEmpty { local = "postmaster" }
        let domain = String(sender[sender.index(after: at)...])
        return await checkHost(ip: ip, domain: domain, sender: "\(local)@\(domain)", helo: helo)
    }

    /// The HELO identity (§2.3).
    public func checkHELO(ip: String, helo: String) async -> SPFOutcome {
        await checkHost(ip: ip, domain: helo, sender: "postmaster@\(helo)", helo: helo)
    }

    public func checkHost(ip: String, domain: String, sender: String, helo: String) async -> SPFOutcome {
        guard var address = NetworkAddress.parse(ip) else { return SPFOutcome(result: .permerror, domain: domain, detail: "bad client address \(ip)") }
        // An IPv4-mapped IPv6 address is IPv4 (§5).
        if address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF { address = Array(address[12...]) }
        let evaluation = SPFEvaluation(verifier: self, ip: address, sender: sender, helo: helo)
        // Hex case means nothing to DNS; %{i} keeps the case the address was written in (the
        // OpenSPF suite expects "CAFE:BABE::1" to give uppercase nibbles).
        evaluation.uppercaseNibbles = ip.contains { ("A"..."F").contains($0) }
        var outcome = await evaluation.checkHost(domain: domain, depth: 0)
        outcome.domain = domain
        return outcome
    }
}

/// One check's state: the shared lookup counters across includes and redirects.
final class SPFEvaluation: @unchecked Sendable {
    let verifier: SPFVerifier
    let ip: [UInt8]
    let sender: String
    let helo: String
    var dnsTerms = 0
    var voidLookups = 0
    var validatedName: String?
    var uppercaseNibbles = false

    init(verifier: SPFVerifier, ip: [UInt8], sender: String, helo: String) {
        self.verifier = verifier
        self.ip = ip
        self.sender = sender
        self.helo = helo
    }

    var resolver: any DNSResolver { verifier.resolver }
    var isIPv4: Bool { ip.count == 4 }

    /// An early end of evaluation with a result.
    struct Stop: Error {
        var result: SPFResult
        var detail: String
    }

    func checkHost(domain: String, depth: Int) async -> SPFOutcome {
        // §4.3: a malformed domain, a single label, or NXDOMAIN is "none".
        var trimmed = domain
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        guard let name = Self.validName(trimmed), name.labels.count >= 2 else {
            return SPFOutcome(result: .none, domain: domain, detail: "not a valid domain")
        }
        let record: SPFRecord
        do {
            guard let found = try await fetchRecord(name) else { return SPFOutcome(result: .none, domain: domain, detail: "no SPF record") }
            record = found
        } catch let stop {
            return SPFOutcome(result: stop.result, domain: domain, detail: stop.detail)
        }
        do {
            for directive in record.directives {
                if try await matches(directive.mechanism, domain: trimmed, depth: depth) {
                    let result = directive.qualifier.result
                    var outcome = SPFOutcome(result: result, domain: domain, detail: directive.text)
                    if result == .fail, let exp = record.explanation { outcome.explanation = await explain(exp, domain: trimmed) }
                    return outcome
                }
            }
            if let redirect = record.redirect {
                try countDNSTerm()
                let target = await expandDomain(redirect, domain: trimmed)
                var outcome = await checkHost(domain: target, depth: depth + 1)
                // §6.1: a redirect to a domain without a record is a permerror.
                if outcome.result == .none { outcome.result = .permerror }
                return outcome
            }
            return SPFOutcome(result: .neutral, domain: domain, detail: "no directive matched")
        } catch let stop as Stop {
            return SPFOutcome(result: stop.result, domain: domain, detail: stop.detail)
        } catch {
            return SPFOutcome(result: .temperror, domain: domain, detail: "\(error)")
        }
    }

    static func validName(_ text: String) -> DNSName? {
        guard !text.isEmpty, text.utf8.count <= 253, let name = try? DNSName(text) else { return nil }
        return name
    }

    /// §4.4, §4.5: the one TXT record starting "v=spf1"; none → nil.
    func fetchRecord(_ name: DNSName) async throws(Stop) -> SPFRecord? {
        let answer: DNSAnswer
        do {
            answer = try await resolver.query(name, .txt)
        } catch {
            throw Stop(result: .temperror, detail: "DNS error looking up \(name): \(error)")
        }
        let texts: [[UInt8]] = answer.records.compactMap {
            if case .txt(let strings) = $0.data { return strings.flatMap { $0 } }
            return nil
        }
        let spf = texts.filter(SPFRecord.isSPF)
        if spf.isEmpty { return nil }
        guard spf.count == 1 else { throw Stop(result: .permerror, detail: "\(name) publishes \(spf.count) SPF records") }
        do {
            return try SPFRecord(parsing: spf[0])
        } catch {
            throw Stop(result: .permerror, detail: error.description)
        }
    }

    func countDNSTerm() throws(Stop) {
        dnsTerms += 1
        if dnsTerms > SPFVerifier.maximumDNSTerms { throw Stop(result: .permerror, detail: "more than 10 DNS-querying terms") }
    }

    /// A query whose empty answer or NXDOMAIN counts as a void lookup (§4.6.4).
    func lookup(_ name: DNSName, _ type: DNSRecordType, countsVoid: Bool = true) async throws(Stop) -> [DNSRecord] {
        let answer: DNSAnswer
        do {
            answer = try await resolver.query(name, type)
        } catch {
            throw Stop(result: .temperror, detail: "DNS error looking up \(name): \(error)")
        }
        if answer.records.isEmpty && countsVoid {
            voidLookups += 1
            if voidLookups > SPFVerifier.maximumVoidLookups { throw Stop(result: .permerror, detail: "more than 2 void DNS lookups") }
        }
        return answer.records
    }

    func addresses(of name: DNSName, countsVoid: Bool = true) async throws(Stop) -> [[UInt8]] {
        try await lookup(name, isIPv4 ? .a : .aaaa, countsVoid: countsVoid).compactMap {
            switch $0.data {
            case .a(let bytes) where isIPv4: return bytes
            case .aaaa(let bytes) where !isIPv4: return bytes
            default: return nil
            }
        }
    }

    /// The name a mechanism's domain-spec expands to; an unusable one matches nothing.
    func target(_ spec: SPFMacroString?, domain: String) async -> DNSName? {
        guard let spec else { return Self.validName(domain) }
        return Self.validName(await expandDomain(spec, domain: domain))
    }

    func matches(_ mechanism: SPFRecord.Mechanism, domain: String, depth: Int) async throws -> Bool {
        switch mechanism {
        case .all:
            return true
        case .ip4(let network, let prefix):
            return isIPv4 && NetworkAddress.matches(ip, network, prefix: prefix)
        case .ip6(let network, let prefix):
            return !isIPv4 && NetworkAddress.matches(ip, network, prefix: prefix)
        case .a(let spec, let ip4, let ip6):
            try countDNSTerm()
            guard let name = await target(spec, domain: domain) else { return false }
            let prefix = isIPv4 ? ip4 : ip6
            return try await addresses(of: name).contains { NetworkAddress.matches(ip, $0, prefix: prefix) }
        case .mx(let spec, let ip4, let ip6):
            try countDNSTerm()
            guard let name = await target(spec, domain: domain) else { return false }
            let exchanges: [DNSName] = try await lookup(name, .mx).compactMap {
                if case .mx(_, let exchange) = $0.data { return exchange }
                return nil
            }
            guard exchanges.count <= 10 else { throw Stop(result: .permerror, detail: "\(name) has more than 10 MX records") }
            let prefix = isIPv4 ? ip4 : ip6
            for exchange in exchanges where !exchange.labels.isEmpty {
                if try await addresses(of: exchange, countsVoid: false).contains(where: { NetworkAddress.matches(ip, $0, prefix: prefix) }) { return true }
            }
            return false
        case .ptr(let spec):
            try countDNSTerm()
            guard let name = await target(spec, domain: domain) else { return false }
            for validated in await validatedNames() where validated == name || validated.isSubdomain(of: name) { return true }
            return false
        case .exists(let spec):
            try countDNSTerm()
            guard let name = await target(spec, domain: domain) else { return false }
            // Always an A query, whatever the client's address family (§5.7).
            return try await !lookup(name, .a).isEmpty
        case .include(let spec):
            try countDNSTerm()
            let targetDomain = await expandDomain(spec, domain: domain)
            let inner = await checkHost(domain: targetDomain, depth: depth + 1)
            switch inner.result {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            case .temperror: throw Stop(result: .temperror, detail: inner.detail ?? "include:\(targetDomain)")
            case .permerror, .none: throw Stop(result: .permerror, detail: "include:\(targetDomain): \(inner.detail ?? inner.result.rawValue)")
            }
        }
    }

    /// The client's names that resolve back to it (§5.5), at most 10 PTR names looked at;
    /// a DNS error on the way means fewer names, never an error.
    func validatedNames() async -> [DNSName] {
        guard let reverse = try? DNSName(Self.reverseName(ip)), let answer = try? await resolver.query(reverse, .ptr) else { return [] }
        var out: [DNSName] = []
        for record in answer.records.prefix(10) {
            guard case .ptr(let name) = record.data else { continue }
            if let addresses = try? await resolver.query(name, isIPv4 ? .a : .aaaa) {
                let found = addresses.records.contains {
                    switch $0.data {
                    case .a(let bytes), .aaaa(let bytes): return bytes == ip
                    default: return false
                    }
                }
                if found { out.append(name) }
            }
        }
        return out
    }

    static func reverseName(_ ip: [UInt8]) -> String {
        if ip.count == 4 { return ip.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa" }
        return nibbles(ip).reversed().joined(separator: ".") + ".ip6.arpa"
    }

    static func nibbles(_ ip: [UInt8]) -> [String] {
        ip.flatMap { [String($0 >> 4, radix: 16), String($0 & 0x0F, radix: 16)] }
    }

    /// §7.3: an expanded domain over 253 characters loses labels on the left.
    func expandDomain(_ spec: SPFMacroString, domain: String) async -> String {
        Self.truncatedOnTheLeft(await spec.expand { await self.macroValue($0, domain: domain) })
    }

    /// Drops whole labels on the left until at most `limit` bytes are left (RFC 7208 §7.3),
    /// finding the cut in one pass: no copy per dropped label, so an expansion of any length
    /// costs what its length costs. With no dot to cut at, the name is left as it is (and then
    /// fails as a DNS name).
    static func truncatedOnTheLeft(_ expanded: String, limit: Int = 253) -> String {
        let bytes = expanded.utf8
        guard bytes.count > limit else { return expanded }
        var index = bytes.startIndex
        var remaining = bytes.count
        while index < bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            remaining -= 1
            if byte == UInt8(ascii: "."), remaining <= limit { return String(expanded[index...]) }
        }
        return expanded
    }

    func macroValue(_ letter: Character, domain: String) async -> String {
        let at = sender.lastIndex(of: "@")
        switch letter {
        case "s": return sender
        case "l": return at.map { String(sender[..<$0]) } ?? "postmaster"
        case "o": return at.map { String(sender[sender.index(after: $0)...]) } ?? sender
        case "d": return domain
        case "i":
            if isIPv4 { return ip.map(String.init).joined(separator: ".") }
            let nibbles = Self.nibbles(ip).joined(separator: ".")
            return uppercaseNibbles ? nibbles.uppercased() : nibbles
        case "v": return isIPv4 ? "in-addr" : "ip6"
        case "h": return helo
        case "c": return Self.readable(ip)
        case "r": return verifier.receivingHost
        case "t": return String(verifier.now())
        case "p":
            if let validatedName { return validatedName }
            let names = await validatedNames()
            let target = try? DNSName(domain)
            let pick = names.first { target != nil && ($0 == target! || $0.isSubdomain(of: target!)) } ?? names.first
            validatedName = pick.map(\.description) ?? "unknown"
            return validatedName!
        default: return ""
        }
    }

    static func readable(_ ip: [UInt8]) -> String {
        if ip.count == 4 { return ip.map(String.init).joined(separator: ".") }
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: ip) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: text, as: UTF8.self)
    }

    /// §6.2: the explanation; any problem means none (the receiver's default applies).
    func explain(_ spec: SPFMacroString, domain: String) async -> String? {
        guard let name = Self.validName(await expandDomain(spec, domain: domain)),
            let answer = try? await resolver.query(name, .txt)
        else { return nil }
        let texts: [[UInt8]] = answer.records.compactMap {
            if case .txt(let strings) = $0.data { return strings.flatMap { $0 } }
            return nil
        }
        guard texts.count == 1, texts[0].allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        guard let template = try? SPFMacroString(parsing: String(decoding: texts[0], as: UTF8.self), allowExplanationLetters: true, allowSpace: true)
        else { return nil }
        return await template.expand { await self.macroValue($0, domain: domain) }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
