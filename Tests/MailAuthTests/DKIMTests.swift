import Crypto
import DNSClient
import Foundation
import MailCore
import Testing

@testable import MailAuth

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

func txt(_ name: String, _ value: String) -> DNSRecord {
    // Long TXT data is split into 255-byte character-strings, as a zone file would.
    var strings: [[UInt8]] = []
    var rest = Array(value.utf8)[...]
    while !rest.isEmpty {
        strings.append(Array(rest.prefix(255)))
        rest = rest.dropFirst(255)
    }
    return DNSRecord(name: try! DNSName(name), type: 16, ttl: 300, data: .txt(strings))
}

let sampleMessage = bytes(
    "From: Joe SixPack <joe@football.example.com>\r\nTo: Suzie Q <suzie@shopping.example.net>\r\nSubject: Is dinner ready?\r\n"
        + "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\nMessage-ID: <20030712040037.46341.5F8J@football.example.com>\r\n\r\n"
        + "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n")

@Suite struct CanonicalizationTests {
    // RFC 6376 §3.4.6, the worked example.
    @Test func headerExample() {
        let header = MessageHeader(parsing: bytes("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n"))
        #expect(header.fields.map(\.name) == ["A", "B"])
        #expect(header.fields.map { DKIMCanonicalization.relaxed.header($0) } == [bytes("a:X\r\n"), bytes("b:Y Z\r\n")])
        #expect(header.fields.map { DKIMCanonicalization.simple.header($0) } == [bytes("A: X\r\n"), bytes("B : Y\t\r\n\tZ  \r\n")])
    }

    @Test func bodyExample() {
        let body = bytes(" C \r\nD \t E\r\n\r\n\r\n")[...]
        #expect(DKIMCanonicalization.relaxed.body(body) == bytes(" C\r\nD E\r\n"))
        #expect(DKIMCanonicalization.simple.body(body) == bytes(" C \r\nD \t E\r\n"))
    }

    @Test func emptyAndUnterminatedBodies() {
        #expect(DKIMCanonicalization.simple.body([][...]) == bytes("\r\n"))
        #expect(DKIMCanonicalization.relaxed.body([][...]) == [])
        #expect(DKIMCanonicalization.relaxed.body(bytes("\r\n \r\n")[...]) == [])
        #expect(DKIMCanonicalization.simple.body(bytes("abc")[...]) == bytes("abc\r\n"))
        // Whitespace-only lines are content in simple, empty in relaxed.
        #expect(DKIMCanonicalization.simple.body(bytes("a\r\n \r\n")[...]) == bytes("a\r\n \r\n"))
        #expect(DKIMCanonicalization.relaxed.body(bytes("a\r\n \r\n")[...]) == bytes("a\r\n"))
    }

    @Test func bodyCanonicalizationIsIdempotentAndNeverEndsInAnEmptyLine() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = bytes("ab \t\r\n")
        for _ in 0..<500 {
            let body = (0..<Int.random(in: 0..<40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            for c in [DKIMCanonicalization.simple, .relaxed] {
                let once = c.body(body[...])
                #expect(c.body(once[...]) == once)
                #expect(!once.suffix(4).elementsEqual(bytes("\r\n\r\n")) || once == bytes("\r\n"))
            }
        }
    }
}

@Suite struct TagListTests {
    @Test func parsesWithWhitespaceAndTrailingSemicolon() throws {
        let list = try TagList(parsing: " v=1; a = rsa-sha256 ;\r\n\th=from : to;  ")
        #expect(list["v"] == "1" && list["a"] == "rsa-sha256" && list["h"] == "from : to")
    }

    @Test func refusesDuplicatesAndJunk() {
        #expect(throws: TagList.ParseError.duplicate("v")) { try TagList(parsing: "v=1; v=2") }
        #expect(throws: TagList.ParseError.self) { try TagList(parsing: "v=1;; a=b") }
        #expect(throws: TagList.ParseError.self) { try TagList(parsing: "1v=1") }
        #expect(throws: TagList.ParseError.self) { try TagList(parsing: "novalue") }
    }
}

@Suite struct DKIMSignVerifyTests {
    static let rsaKey = try! DKIMSigningKey.generate(domain: "example.com", selector: "s1")
    static let edKey = try! DKIMSigningKey.generate(domain: "example.com", selector: "s2", algorithm: .ed25519SHA256)
    static let zone = ZoneResolver(records: [txt("s1._domainkey.example.com", rsaKey.dnsRecord), txt("s2._domainkey.example.com", edKey.dnsRecord)])
    let verifier = DKIMVerifier(resolver: zone, now: { 1_700_000_100 })

    func signed(_ message: [UInt8] = sampleMessage, with key: DKIMSigningKey = rsaKey) throws -> [UInt8] {
        try DKIMSigner.sign(message, key: key, at: 1_700_000_000)
    }

    @Test func bothAlgorithmsSignAndVerify() async throws {
        for key in [Self.rsaKey, Self.edKey] {
            let results = await verifier.verify(try signed(with: key))
            #expect(results.count == 1)
            #expect(results[0].status == .pass, "\(results[0])")
            #expect(results[0].domain == "example.com" && results[0].selector == key.selector && results[0].algorithm == key.algorithm)
        }
        let two = try DKIMSigner.sign(try signed(with: Self.edKey), key: Self.rsaKey, at: 1_700_000_000)
        #expect(await verifier.verify(two).map(\.status) == [.pass, .pass])
    }

    @Test func theSignatureFieldIsFoldedAndOverSignsFrom() throws {
        let field = try DKIMSigner.signatureField(for: sampleMessage, key: Self.rsaKey, at: 1_700_000_000)
        #expect(field.split(separator: "\r\n").allSatisfy { $0.count <= 78 })
        let value = try DKIMSignature(parsing: String(field.dropFirst("DKIM-Signature:".count)))
        #expect(value.signedHeaders.filter { $0 == "from" }.count == 2)
        #expect(value.headerCanonicalization == .relaxed && value.bodyCanonicalization == .relaxed && value.timestamp == 1_700_000_000)
    }

    @Test func relaxedSurvivesWhitespaceChangesButNotContentChanges() async throws {
        let message = try signed()
        let text = String(decoding: message, as: UTF8.self)
        let rewrapped = bytes(text.replacingOccurrences(of: "Subject: Is dinner ready?", with: "subject:   Is dinner\r\n  ready?  "))
        #expect(await verifier.verify(rewrapped).first?.status == .pass)
        let trailing = bytes(text.replacingOccurrences(of: "Joe.\r\n", with: "Joe.   \r\n\r\n\r\n"))
        #expect(await verifier.verify(trailing).first?.status == .pass)
        // One byte of the body.
        let body = bytes(text.replacingOccurrences(of: "hungry", with: "hungrY"))
        let bodyResult = await verifier.verify(body).first
        #expect(bodyResult?.status == .fail && bodyResult?.reason == "body hash did not verify")
        // One byte of a signed field.
        let subject = bytes(text.replacingOccurrences(of: "dinner", with: "dinnex"))
        let subjectResult = await verifier.verify(subject).first
        #expect(subjectResult?.status == .fail && subjectResult?.reason == "signature did not verify")
        // A second From added on top: the over-signed From catches it.
        let extraFrom = bytes("From: attacker@evil.test\r\n") + message
        #expect(await verifier.verify(extraFrom).first?.status == .fail)
        // Unsigned fields may be added.
        #expect(await verifier.verify(bytes("X-Added: yes\r\n") + message).first?.status == .pass)
    }

    @Test func keyAndSignatureProblemsGiveTheRightResult() async throws {
        let message = try signed()
        func result(_ records: [DNSRecord], failing: Set<DNSName> = [], _ m: [UInt8]? = nil, now: Int = 1_700_000_100) async -> DKIMResult? {
            await DKIMVerifier(resolver: ZoneResolver(records: records, failing: failing), now: { now }).verify(m ?? message).first
        }
        #expect(await result([])?.status == .permerror)
        #expect(await result([], failing: [try DNSName("s1._domainkey.example.com")])?.status == .temperror)
        #expect(await result([txt("s1._domainkey.example.com", "v=DKIM1; k=rsa; p=")])?.reason == "key revoked")
        #expect(await result([txt("s1._domainkey.example.com", Self.edKey.dnsRecord)])?.status == .permerror)
        #expect(await result([txt("s1._domainkey.example.com", "v=DKIM2; p=abcd")])?.status == .permerror)
        let text = String(decoding: message, as: UTF8.self)
        // Edited signature fields: the From requirement and rsa-sha1 (RFC 8301).
        let noFrom = bytes(text.replacingOccurrences(of: "h=from:from:", with: "h="))
        #expect(await result([txt("s1._domainkey.example.com", Self.rsaKey.dnsRecord)], noFrom)?.reason == "From is not signed")
        let sha1 = bytes(text.replacingOccurrences(of: "a=rsa-sha256", with: "a=rsa-sha1"))
        #expect(await result([txt("s1._domainkey.example.com", Self.rsaKey.dnsRecord)], sha1)?.status == .permerror)
        // x= in the past.
        let expiring = bytes(text.replacingOccurrences(of: "t=1700000000;", with: "t=1700000000; x=1700000050;"))
        #expect(await result([txt("s1._domainkey.example.com", Self.rsaKey.dnsRecord)], expiring)?.reason == "signature expired")
    }

    @Test func noSignatureMeansNoResults() async {
        #expect(await verifier.verify(sampleMessage).isEmpty)
    }
}

/// Golden data: RFC 8463 Appendix A (one message signed with ed25519-sha256 and rsa-sha256), as
/// the dkimpy source distribution ships it; `scripts/test` fetches it from PyPI into
/// TERN_DKIM_TESTDATA (it is not committed).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TERN_DKIM_TESTDATA"] != nil || ProcessInfo.processInfo.environment["TERN_REQUIRE_TEST_DATA"] != nil))
struct DKIMGoldenTests {
    let dir = ProcessInfo.processInfo.environment["TERN_DKIM_TESTDATA"] ?? "/nonexistent"

    func read(_ name: String) throws -> [UInt8] {
        let data = try #require(FileManager.default.contents(atPath: "\(dir)/\(name)"), "\(dir)/\(name) missing")
        // The files have LF line ends; mail on the wire has CRLF.
        return Array(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test func rfc8463AppendixAVerifies() async throws {
        let message = try read("rfc6376.signed.msg")
        let rsaRecord = String(decoding: try read("test.txt"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // RFC 8463 A.2: the Ed25519 key of selector brisbane.
        let zone = ZoneResolver(records: [
            txt("brisbane._domainkey.football.example.com", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),
            txt("test._domainkey.football.example.com", rsaRecord),
        ])
        let results = await DKIMVerifier(resolver: zone).verify(message)
        #expect(results.map(\.status) == [.pass, .pass], "\(results)")
        #expect(results.map(\.algorithm) == [.ed25519SHA256, .rsaSHA256])
        #expect(results[1].keyBits == 1024)
        // The same message with one body byte changed fails both.
        let changed = Array(String(decoding: message, as: UTF8.self).replacingOccurrences(of: "We lost", with: "We won!").utf8)
        #expect(await DKIMVerifier(resolver: zone).verify(changed).map(\.status) == [.fail, .fail])
    }

    @Test func ed25519TestKeyFromDkimpyVerifiesTernsSignature() async throws {
        // dkimpy's ed25519test.key is the base64 seed of a key whose public half is
        // ed25519test.dns: Tern signs with it and verifies against the published record.
        let seed = String(decoding: try read("ed25519test.key"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try DKIMSigningKey(domain: "example.net", selector: "test", storageText: "ed25519:" + seed)
        let record = String(decoding: try read("ed25519test.dns"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.dnsRecord.hasSuffix(String(record.split(separator: "p=").last!)))
        let message = try read("ed25519test.msg")
        let signed = try DKIMSigner.sign(message, key: key, at: 1_700_000_000)
        let results = await DKIMVerifier(resolver: ZoneResolver(records: [txt("test._domainkey.example.net", record)])).verify(signed)
        #expect(results.map(\.status) == [.pass])
    }
}

@Suite struct DKIMBodyLengthAndRobustnessTests {
    @Test func lIsHonouredButReported() async throws {
        let key = DKIMSignVerifyTests.rsaKey
        // A signature made by hand with l= covering the body as it is now.
        let body = DKIMCanonicalization.relaxed.body(sampleMessage[MessageHeader(parsing: sampleMessage).bodyStart...])
        let field = try DKIMSigner.signatureField(for: sampleMessage, key: key, at: 1_700_000_000)
        #expect(!field.contains("l="))
        // Re-sign with l= by editing the unsigned field: build it through the signer's pieces.
        let withLength = try signWithLength(sampleMessage, key: key, length: body.count)
        let verifier = DKIMVerifier(resolver: DKIMSignVerifyTests.zone, now: { 1_700_000_100 })
        let exact = await verifier.verify(withLength).first
        #expect(exact?.status == .pass && exact?.bodyLengthLimited == false)
        // Content appended after signing still passes, and the result says the body was limited.
        let appended = withLength + Array("Appended by someone else.\r\n".utf8)
        let limited = await verifier.verify(appended).first
        #expect(limited?.status == .pass && limited?.bodyLengthLimited == true)
        #expect(AuthenticationResults.field(authservID: "x", spf: nil, mailFrom: nil, helo: nil, dkim: [limited!], dmarc: nil)
            .contains("body length limited by l="))
        // A body shorter than l= fails.
        let cut = Array(withLength.dropLast(10)) + Array("\r\n".utf8)
        #expect(await verifier.verify(cut).first?.status == .fail)
    }

    /// A relaxed/relaxed rsa-sha256 signature with an l= tag, made from the same pieces the
    /// signer uses.
    func signWithLength(_ message: [UInt8], key: DKIMSigningKey, length: Int) throws -> [UInt8] {
        let header = MessageHeader(parsing: message)
        let body = DKIMCanonicalization.relaxed.body(message[header.bodyStart...])
        let bodyHash = Base64Text.encode(Array(SHA256.hash(data: body.prefix(length))))
        let names = ["from", "to", "subject", "from"]
        let text = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1; l=\(length); h=\(names.joined(separator: ":")); bh=\(bodyHash); b="
        let unsigned = RawHeaderField(name: "DKIM-Signature", raw: Array((text + "\r\n").utf8)[...])
        var data = DKIMHeaderHash.input(header: header, excluding: nil, signedHeaders: names, canonicalization: .relaxed)
        data += DKIMHeaderHash.signatureField(unsigned, canonicalization: .relaxed)
        guard case .rsa(let privateKey) = key.material else { throw DKIMPermanentError("not rsa") }
        let signature = try privateKey.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
        return Array((text + Base64Text.encode(Array(signature.rawRepresentation)) + "\r\n").utf8) + message
    }

    @Test func randomInputNeverCrashesAnyParser() async {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("v=1;a=rsa-sha256 b bh d h s l i t x c q DKIM1 k p relaxed/simple :;= \t\r\n@.-_ABCabc0123456789%{}".utf8)
        let verifier = DKIMVerifier(resolver: ZoneResolver(records: [txt("s._domainkey.d.test", "v=DKIM1; p=")]))
        for _ in 0..<400 {
            let text = String(decoding: (0..<Int.random(in: 0..<80, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }, as: UTF8.self)
            _ = try? TagList(parsing: text)
            _ = try? DKIMSignature(parsing: text)
            _ = try? DKIMKeyRecord(parsing: text)
            _ = DMARCRecord(parsing: text)
            _ = try? SPFRecord(parsing: Array(("v=spf1 " + text).utf8))
            let message = Array("DKIM-Signature: \(text)\r\nFrom: a@d.test\r\n\r\nbody\r\n".utf8)
            let results = await verifier.verify(message)
            #expect(results.count == 1 && results[0].status != .pass)
            _ = MessageHeader(parsing: Array(text.utf8))
        }
    }
}
