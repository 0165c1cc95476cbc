import DNSClient
import Foundation
import Testing

@testable import MailAuth

let suffixes = PublicSuffixList(text: """
    // a small list in the real format
    com
    uk
    co.uk
    *.ck
    !www.ck
    jp
    *.kobe.jp
    !city.kobe.jp
    """)

func message(from: String) -> [UInt8] { Array("From: \(from)\r\nSubject: x\r\n\r\nbody\r\n".utf8) }

@Suite struct PublicSuffixListTests {
    @Test func organizationalDomains() {
        #expect(suffixes.organizationalDomain("mail.example.com") == "example.com")
        #expect(suffixes.organizationalDomain("example.com") == "example.com")
        #expect(suffixes.organizationalDomain("a.b.example.co.uk") == "example.co.uk")
        #expect(suffixes.organizationalDomain("a.b.example.ck") == "b.example.ck")
        #expect(suffixes.organizationalDomain("a.www.ck") == "www.ck")
        #expect(suffixes.organizationalDomain("x.city.kobe.jp") == "city.kobe.jp")
        #expect(suffixes.organizationalDomain("x.y.other.kobe.jp") == "y.other.kobe.jp")
        // Not on the list: the implicit "*" rule.
        #expect(suffixes.organizationalDomain("a.b.example.test") == "example.test")
        #expect(suffixes.organizationalDomain("co.uk") == "co.uk")
        #expect(suffixes.organizationalDomain("Mail.Example.COM.") == "example.com")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: PublicSuffixList.debianPath)))
    func debianListLoads() throws {
        let list = try PublicSuffixList(contentsOf: PublicSuffixList.debianPath)
        #expect(list.organizationalDomain("www.bbc.co.uk") == "bbc.co.uk")
        #expect(list.organizationalDomain("foo.github.io") == "foo.github.io")
    }
}

@Suite struct DMARCTests {
    let zone = ZoneResolver(records: [
        txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com"),
        txt("_dmarc.strict.test", "v=DMARC1; p=reject; adkim=s; aspf=s"),
        txt("_dmarc.half.test", "v=DMARC1; p=reject; pct=50"),
        txt("_dmarc.nop.test", "v=DMARC1; rua=mailto:x@nop.test"),
        txt("_dmarc.bad.test", "v=DMARC1; p=bogus"),
        txt("_dmarc.two.test", "v=DMARC1; p=reject"), txt("_dmarc.two.test", "v=DMARC1; p=none"),
    ])

    func verifier(sample: Int = 0) -> DMARCVerifier { DMARCVerifier(resolver: zone, suffixes: suffixes, sample: { sample }) }
    func spf(_ result: SPFResult, _ domain: String) -> SPFOutcome { SPFOutcome(result: result, domain: domain) }
    func dkim(_ status: DKIMResult.Status, _ domain: String) -> DKIMResult { DKIMResult(status: status, domain: domain, selector: "s") }

    @Test func alignmentTable() async {
        // (From, SPF result+domain, DKIM result+d=, expected result, expected disposition)
        let cases: [(String, SPFOutcome?, [DKIMResult], DMARCResult, DMARCPolicy)] = [
            ("a@example.com", spf(.pass, "example.com"), [], .pass, .none),
            ("a@example.com", spf(.pass, "bounce.example.com"), [], .pass, .none),  // relaxed SPF
            ("a@example.com", spf(.fail, "example.com"), [dkim(.pass, "mail.example.com")], .pass, .none),  // relaxed DKIM
            ("a@example.com", spf(.pass, "other.test"), [dkim(.pass, "other.test")], .fail, .reject),
            ("a@example.com", spf(.softfail, "example.com"), [dkim(.fail, "example.com")], .fail, .reject),
            ("a@news.example.com", nil, [], .fail, .quarantine),  // sp= at the organizational domain
            ("a@strict.test", spf(.pass, "mail.strict.test"), [dkim(.pass, "mail.strict.test")], .fail, .reject),
            ("a@strict.test", nil, [dkim(.pass, "strict.test")], .pass, .none),
            ("a@nop.test", nil, [], .fail, .none),  // no p=, rua= present: p=none
            ("a@bad.test", nil, [], .none, .none),
            ("a@two.test", nil, [], .none, .none),  // two records: no policy
            ("a@nowhere.test", nil, [], .none, .none),
        ]
        for (from, spfOutcome, dkimResults, result, disposition) in cases {
            let outcome = await verifier().evaluate(message: message(from: "X <\(from)>"), spf: spfOutcome, dkim: dkimResults)
            #expect(outcome.result == result, "\(from) \(String(describing: spfOutcome)) \(dkimResults)")
            #expect(outcome.disposition == disposition, "\(from)")
        }
    }

    @Test func pctSamplesAndDowngrades() async {
        #expect(await verifier(sample: 10).evaluate(message: message(from: "a@half.test"), spf: nil, dkim: []).disposition == .reject)
        #expect(await verifier(sample: 60).evaluate(message: message(from: "a@half.test"), spf: nil, dkim: []).disposition == .quarantine)
    }

    @Test func fromMustBeOneAddress() async {
        let two = await verifier().evaluate(message: message(from: "a@nowhere.test, b@example.com"), spf: spf(.pass, "nowhere.test"), dkim: [])
        #expect(two.result == .fail && two.disposition == .reject)
        let twoFields = Array("From: a@example.com\r\nFrom: a@example.com\r\n\r\nx\r\n".utf8)
        #expect(await verifier().evaluate(message: twoFields, spf: spf(.pass, "example.com"), dkim: []).result == .fail)
        let none = Array("Subject: x\r\n\r\nx\r\n".utf8)
        #expect(await verifier().evaluate(message: none, spf: nil, dkim: []).result == .fail)
    }

    @Test func dnsFailureIsTemperror() async {
        let failing = DMARCVerifier(resolver: ZoneResolver(records: [], failing: [try! DNSName("_dmarc.example.com")]), suffixes: suffixes)
        #expect(await failing.evaluate(message: message(from: "a@example.com"), spf: nil, dkim: []).result == .temperror)
    }
}

@Suite struct AuthenticationResultsTests {
    @Test func fieldNamesEveryMethod() {
        var dkimPass = DKIMResult(status: .pass, domain: "example.com", selector: "s1", identity: "@example.com")
        dkimPass.algorithm = .rsaSHA256
        dkimPass.keyBits = 2048
        let field = AuthenticationResults.field(
            authservID: "mx.tern.test", spf: SPFOutcome(result: .pass, domain: "example.com"), mailFrom: "a@example.com", helo: "h",
            dkim: [dkimPass], dmarc: DMARCOutcome(result: .pass, fromDomain: "example.com", policy: .reject))
        #expect(field.hasPrefix("Authentication-Results: mx.tern.test;\r\n\t"))
        #expect(field.contains("spf=pass smtp.mailfrom=a@example.com"))
        #expect(field.contains("dkim=pass (2048-bit key) header.d=example.com header.s=s1 header.i=@example.com header.a=rsa-sha256"))
        #expect(field.contains("dmarc=pass (p=reject dis=none) header.from=example.com"))
        // Parses back as one field with that authserv-id.
        let parsed = MessageHeader(parsing: Array((field + "\r\n").utf8))
        #expect(parsed.fields.count == 1 && AuthenticationResults.authservID(of: parsed.fields[0]) == "mx.tern.test")
    }

    @Test func forgedFieldsWithOurIDAreRemovedOthersKept() {
        let message = Array(
            "Authentication-Results: MX.tern.test; dkim=pass\r\n header.d=bank.test\r\nAuthentication-Results: other.example; spf=fail\r\nFrom: a@b.test\r\n\r\nbody\r\n"
                .utf8)
        let (cleaned, removed) = AuthenticationResults.removingForged(message, authservID: "mx.tern.test")
        #expect(removed == 1)
        #expect(String(decoding: cleaned, as: UTF8.self) == "Authentication-Results: other.example; spf=fail\r\nFrom: a@b.test\r\n\r\nbody\r\n")
    }
}
