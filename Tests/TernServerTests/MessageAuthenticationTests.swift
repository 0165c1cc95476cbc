import DNSClient
import Foundation
import MailAuth
import MailCore
@testable import MailService
import MailStore
import MailStoreSQLite
import SMTPProtocol
import Testing

@testable import SMTPServer

private func txt(_ name: String, _ value: String) -> DNSRecord {
    var strings: [[UInt8]] = []
    var rest = Array(value.utf8)[...]
    while !rest.isEmpty {
        strings.append(Array(rest.prefix(255)))
        rest = rest.dropFirst(255)
    }
    return DNSRecord(name: try! DNSName(name), type: 16, ttl: 60, data: .txt(strings))
}

/// The decisions of the accept path's sender authentication, without sockets: what gets refused,
/// what is filed as Junk, what the Authentication-Results field says, and that our own signing
/// produces signatures the verifier accepts.
@Suite struct MessageAuthenticationTests {
    static let zone = ZoneResolver(records: [
        txt("bank.test", "v=spf1 ip4:192.0.2.10 -all"),
        txt("_dmarc.bank.test", "v=DMARC1; p=reject"),
        txt("shop.test", "v=spf1 ip4:192.0.2.20 -all"),
        txt("_dmarc.shop.test", "v=DMARC1; p=quarantine"),
    ])

    func authentication(reject: Bool = true, relaxed: Set<String> = [], keys: DKIMKeyCache? = nil) -> MessageAuthentication {
        MessageAuthentication(
            spf: SPFVerifier(resolver: Self.zone), dkim: DKIMVerifier(resolver: Self.zone),
            dmarc: DMARCVerifier(resolver: Self.zone, suffixes: PublicSuffixList(text: "test")), authservID: "mx.tern.test",
            rejectOnDMARC: reject, relaxedDomains: relaxed, signingKeys: keys)
    }

    func envelope(from: String, to: String) throws -> Envelope {
        Envelope(
            reversePath: try ReversePath(parsing: "<\(from)>"), mailParameters: MailParameters(),
            recipients: [EnvelopeRecipient(path: try ForwardPath(parsing: "<\(to)>"), parameters: RecipientParameters())])
    }

    func message(from: String, extra: String = "") -> [UInt8] {
        Array("\(extra)From: <\(from)>\r\nSubject: hi\r\n\r\nbody\r\n".utf8)
    }

    @Test func dmarcRejectIsRefusedUnlessRelaxedOrTurnedOff() async throws {
        let forged = message(from: "ceo@bank.test")
        let env = try envelope(from: "ceo@bank.test", to: "alice@hosted.test")
        let refused = await authentication().check(content: forged, envelope: env, clientAddress: "198.51.100.1", helo: "evil.example")
        let reply = refused.refusal.map(SMTPReply.init)
        #expect(reply?.code == 550 && reply?.enhanced == EnhancedStatus(5, 7, 1))
        #expect(reply?.lines.joined().contains("bank.test") == true)
        // A hosted domain that asked for leniency, or reject turned off: Junk instead.
        for auth in [authentication(relaxed: ["hosted.test"]), authentication(reject: false)] {
            let verdict = await auth.check(content: forged, envelope: env, clientAddress: "198.51.100.1", helo: "evil.example")
            #expect(verdict.refusal == nil && verdict.quarantine == "dmarc")
        }
        // The same mail from the domain's own server passes.
        let good = await authentication().check(content: forged, envelope: env, clientAddress: "192.0.2.10", helo: "mail.bank.test")
        #expect(good.refusal == nil && good.quarantine == nil && good.dmarc.result == .pass && good.spf.result == .pass)
    }

    @Test func quarantineAndTheHeaderWeWrite() async throws {
        let forgedAR = "Authentication-Results: MX.TERN.TEST; dmarc=pass\r\n"
        let content = message(from: "news@shop.test", extra: forgedAR)
        let verdict = await authentication().check(
            content: content, envelope: try envelope(from: "news@shop.test", to: "alice@hosted.test"), clientAddress: "198.51.100.1",
            helo: "[198.51.100.1]")
        #expect(verdict.refusal == nil && verdict.quarantine == "dmarc")
        let text = String(decoding: verdict.content, as: UTF8.self)
        #expect(text.hasPrefix("Authentication-Results: mx.tern.test;\r\n\tspf=fail"))
        #expect(text.contains("dkim=none") && text.contains("dmarc=fail (p=quarantine dis=quarantine) header.from=shop.test"))
        #expect(!text.contains("MX.TERN.TEST; dmarc=pass"))  // the forged field is gone
        #expect(verdict.heloSPF == nil)  // an address literal is not checked
    }

    /// Counts the questions asked of a zone.
    final class CountingResolver: DNSResolver, @unchecked Sendable {
        let base: ZoneResolver
        let lock = NSLock()
        var asked: [String] = []
        init(_ base: ZoneResolver) { self.base = base }
        func query(_ name: DNSName, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
            lock.withLock { asked.append("\(name) \(type)") }
            return try await base.query(name, type)
        }
    }

    @Test func spfStartedAtMailFromIsUsedAtTheEndOfData() async throws {
        let resolver = CountingResolver(Self.zone)
        let auth = MessageAuthentication(
            spf: SPFVerifier(resolver: resolver), dkim: DKIMVerifier(resolver: Self.zone),
            dmarc: DMARCVerifier(resolver: Self.zone, suffixes: PublicSuffixList(text: "test")), authservID: "mx.tern.test", signingKeys: nil)
        auth.senderGiven(mailFrom: "ceo@bank.test", clientAddress: "192.0.2.10", helo: "mail.bank.test")
        // The lookups happen before the message is complete…
        for _ in 0..<200 where resolver.lock.withLock({ resolver.asked.count }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
        let before = resolver.lock.withLock { resolver.asked.count }
        #expect(before == 2)  // bank.test and mail.bank.test TXT
        // …and are not made again when it is.
        let verdict = await auth.check(
            content: message(from: "ceo@bank.test"), envelope: try envelope(from: "ceo@bank.test", to: "alice@hosted.test"),
            clientAddress: "192.0.2.10", helo: "mail.bank.test")
        #expect(verdict.spf.result == .pass && resolver.lock.withLock { resolver.asked.count } == before)
        // A different sender is not answered from it.
        let other = await auth.check(
            content: message(from: "x@shop.test"), envelope: try envelope(from: "x@shop.test", to: "alice@hosted.test"), clientAddress: "192.0.2.10",
            helo: "mail.bank.test")
        #expect(other.spf.result == .fail && other.spf.domain == "shop.test")
    }

    @Test func ourSignatureVerifies() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tern-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: dir.appendingPathComponent("tern.sqlite").path)
        try await store.addDomain("hosted.test")
        let key = try DKIMSigningKey.generate(domain: "hosted.test", selector: "k1", algorithm: .ed25519SHA256)
        try await store.addSigningKey(
            StoredSigningKey(domain: "hosted.test", selector: "k1", algorithm: key.algorithm.rawValue, privateKey: key.storageText, createdAt: 0))
        let auth = authentication(keys: DKIMKeyCache(store: store))
        let content = message(from: "alice@hosted.test")
        let fields = content.withUnsafeBytes { auth.signatureFields(for: $0, at: 1_700_000_000) }
        #expect(fields.hasPrefix("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;"))
        let verifier = DKIMVerifier(resolver: ZoneResolver(records: [txt(key.dnsName, key.dnsRecord)]))
        #expect(await verifier.verify(Array(fields.utf8) + content).map(\.status) == [.pass])
        // A From domain without a key is not signed.
        #expect(message(from: "x@elsewhere.test").withUnsafeBytes { auth.signatureFields(for: $0, at: 0) } == "")
    }
}
