import DNSClient
import Testing

@testable import MailAuth

@Suite struct SPFMacroTests {
    func expand(_ spec: String, ip: [UInt8] = [192, 0, 2, 3]) async throws -> String {
        let evaluation = SPFEvaluation(
            verifier: SPFVerifier(resolver: ZoneResolver(records: [])), ip: ip, sender: "strong-bad@email.example.com", helo: "mx.example.org")
        return try await SPFMacroString(parsing: spec, allowExplanationLetters: true).expand { await evaluation.macroValue($0, domain: "email.example.com") }
    }

    // RFC 7208 §7.4, every example.
    @Test func rfcExamples() async throws {
        let cases: [(String, String)] = [
            ("%{s}", "strong-bad@email.example.com"), ("%{o}", "email.example.com"), ("%{d}", "email.example.com"),
            ("%{d4}", "email.example.com"), ("%{d3}", "email.example.com"), ("%{d2}", "example.com"), ("%{d1}", "com"),
            ("%{dr}", "com.example.email"), ("%{d2r}", "example.email"), ("%{l}", "strong-bad"), ("%{l-}", "strong.bad"),
            ("%{lr}", "strong-bad"), ("%{lr-}", "bad.strong"), ("%{l1r-}", "strong"),
            ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"), ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
            ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
            ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
            ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
            ("%{S}", "strong-bad%40email.example.com"), ("a%%b%_c%-d", "a%b c%20d"),
        ]
        for (spec, expected) in cases { #expect(try await expand(spec) == expected, "\(spec)") }
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcb, 0x01]
        #expect(try await expand("%{ir}.%{v}._spf.%{d2}", ip: v6) == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
    }

    @Test func badMacrosAreSyntaxErrors() {
        for bad in ["%{x}", "%{d0}", "%{c}", "%", "%a", "%{d", "%{d2r!}"] {
            #expect(throws: SPFRecord.SyntaxError.self, "\(bad)") { try SPFMacroString(parsing: bad, allowExplanationLetters: false) }
        }
        #expect(throws: SPFRecord.SyntaxError.self) { try SPFMacroString(domainSpec: "localhost") }
        #expect(throws: SPFRecord.SyntaxError.self) { try SPFMacroString(domainSpec: "example.123") }
        #expect(throws: Never.self) { try SPFMacroString(domainSpec: "_spf.%{d}") }
    }
}

@Suite struct SPFCheckTests {
    let zone = ZoneResolver(records: [
        txt("example.com", "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net a:mail.example.com -all exp=why.example.com"),
        txt("_spf.example.net", "v=spf1 ip6:2001:db8::/32 ~all"),
        DNSRecord(name: try! DNSName("mail.example.com"), type: 1, ttl: 60, data: .a([198, 51, 100, 7])),
        txt("why.example.com", "%{i} is not allowed to send for %{d}"),
        txt("loop.example", "v=spf1 include:loop.example -all"),
        txt("two.example", "v=spf1 -all"), txt("two.example", "v=spf1 +all"),
        txt("soft.example", "v=spf1 ~all"),
    ])

    @Test func resultsAcrossMechanisms() async {
        let spf = SPFVerifier(resolver: zone)
        #expect(await spf.checkMailFrom(ip: "192.0.2.9", mailFrom: "a@example.com", helo: "h.example").result == .pass)
        #expect(await spf.checkMailFrom(ip: "2001:db8::5", mailFrom: "a@example.com", helo: "h.example").result == .pass)
        #expect(await spf.checkMailFrom(ip: "198.51.100.7", mailFrom: "a@example.com", helo: "h.example").result == .pass)
        #expect(await spf.checkMailFrom(ip: "::ffff:198.51.100.7", mailFrom: "a@example.com", helo: "h.example").result == .pass)
        let fail = await spf.checkMailFrom(ip: "203.0.113.1", mailFrom: "a@example.com", helo: "h.example")
        #expect(fail.result == .fail && fail.explanation == "203.0.113.1 is not allowed to send for example.com")
        #expect(await spf.checkMailFrom(ip: "203.0.113.1", mailFrom: "a@soft.example", helo: "h").result == .softfail)
        #expect(await spf.checkMailFrom(ip: "203.0.113.1", mailFrom: "a@nothing.example", helo: "h").result == .none)
        #expect(await spf.checkMailFrom(ip: "203.0.113.1", mailFrom: "a@two.example", helo: "h").result == .permerror)
        // An include loop runs into the 10-term limit.
        #expect(await spf.checkMailFrom(ip: "203.0.113.1", mailFrom: "a@loop.example", helo: "h").result == .permerror)
        // Null reverse path: the HELO name's policy.
        #expect(await spf.checkMailFrom(ip: "203.0.113.1", mailFrom: "", helo: "soft.example").result == .softfail)
        #expect(await spf.checkHELO(ip: "192.0.2.1", helo: "example.com").result == .pass)
        let broken = SPFVerifier(resolver: ZoneResolver(records: zone.records, failing: [try! DNSName("example.com")]))
        #expect(await broken.checkMailFrom(ip: "192.0.2.9", mailFrom: "a@example.com", helo: "h").result == .temperror)
    }

    @Test func syntaxCheckForDomainCheck() {
        #expect(SPFVerifier.syntaxError(in: "v=spf1 mx -all") == nil)
        #expect(SPFVerifier.syntaxError(in: "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net ~all") == nil)
        #expect(SPFVerifier.syntaxError(in: "spf1 mx") == "does not start with \"v=spf1\"")
        #expect(SPFVerifier.syntaxError(in: "v=spf1 ip4:192.0.2.300 -all")?.contains("ip4") == true)
        #expect(SPFVerifier.syntaxError(in: "v=spf1 mx redirect=a.test redirect=b.test") != nil)
        #expect(SPFVerifier.syntaxError(in: "v=spf1 frobnicate -all") != nil)
    }

    @Test func randomRecordsNeverCrashAndGiveAResult() async {
        // Property: any printable record parses or is a syntax error; evaluation always ends.
        var rng = SystemRandomNumberGenerator()
        let pieces = ["v=spf1", " ", "a", "mx", "ptr", "all", "-", "~", "?", "+", ":", "/", "//", "24", "ip4:", "ip6:", "include:", "exists:",
                      "redirect=", "exp=", "%{d}", "%{ir}", "%", "{", "}", ".", "example.com", "0", "=", "::1", "1.2.3.4"]
        for _ in 0..<300 {
            var record = "v=spf1"
            for _ in 0..<Int.random(in: 0..<12, using: &rng) { record += pieces.randomElement(using: &rng)! }
            let spf = SPFVerifier(resolver: ZoneResolver(records: [txt("r.example", record), txt("example.com", "v=spf1 -all")]))
            let outcome = await spf.checkMailFrom(ip: "192.0.2.1", mailFrom: "x@r.example", helo: "h")
            #expect(SPFResult(rawValue: outcome.result.rawValue) != nil)
        }
    }
}
