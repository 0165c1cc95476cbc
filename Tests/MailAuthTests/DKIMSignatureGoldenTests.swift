import DNSClient
import Foundation
import MailAuth
import Testing

/// Tern's DKIM signature of RFC 8463's message with RFC 8463's Ed25519 key, against the golden
/// file on disk (`Tests/Golden/dkim`); Ed25519 is deterministic, so the field must not change.
@Suite struct DKIMSignatureGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden/dkim")

    func read(_ name: String) throws -> String {
        let data = try #require(FileManager.default.contents(atPath: Self.golden.appendingPathComponent(name).path), "\(name) missing")
        return String(decoding: data, as: UTF8.self)
    }

    @Test func ed25519SignatureOfTheRFC8463Message() async throws {
        let message = Array(try read("message.eml").utf8)
        let seed = try read("brisbane.ed25519.key").trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try DKIMSigningKey(domain: "football.example.com", selector: "brisbane", storageText: "ed25519:" + seed)
        let record = try read("brisbane.dns").trimmingCharacters(in: .whitespacesAndNewlines)
        // The key is RFC 8463 A.2's: its public half is the published record.
        #expect(key.dnsRecord == record)
        let field = try DKIMSigner.signatureField(for: message, key: key, at: 1_528_637_909)
        let path = Self.golden.appendingPathComponent("message.ed25519.signature")
        if ProcessInfo.processInfo.environment["TERN_UPDATE_GOLDEN"] != nil { try Data(field.utf8).write(to: path) }
        #expect(field == (try read("message.ed25519.signature")))
        // And it verifies against the published key.
        let signed = Array(field.utf8) + message
        let zone = ZoneResolver(records: [txt("brisbane._domainkey.football.example.com", record)])
        #expect(await DKIMVerifier(resolver: zone).verify(signed).map(\.status) == [.pass])
    }
}
