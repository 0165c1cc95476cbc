import Foundation
import MailCore
import Testing

/// DSN rendering against golden files on disk (`Tests/Golden/dsn`).
@Suite struct DSNGoldenTests {
    static let original = Array(
        "Received: from c.example.net ([192.0.2.7])\r\n\tby mx.example.test (Tern) with ESMTP id 06h2k0000000abcd\r\nFrom: Alice <alice@example.test>\r\nTo: bob@example.net\r\nSubject: the report\r\nMessage-ID: <m1@example.test>\r\n\r\nThe body.\n.a line with a dot\r\nlast line"
            .utf8)

    func check(_ name: String, _ dsn: DeliveryStatusNotification) throws {
        let text = try GoldenFile.check(dsn.render(), directory: "dsn", name: name)
        // Every line ends in CRLF, and no line is longer than RFC 5322 §2.1.1 allows.
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }

    @Test func failureWithFullContent() throws {
        try check(
            "failed.eml",
            DeliveryStatusNotification(
                reportingMTA: "mx.example.test", to: "alice@example.test", envelopeID: "env-42", arrivalDate: 1_764_400_000,
                date: 1_764_400_600, messageID: "06h2k0000000abce.dsn@mx.example.test",
                recipients: [
                    .init(
                        finalRecipient: "bob@example.net", originalRecipient: OriginalRecipient(addressType: "rfc822", address: "team@example.test"),
                        action: .failed, status: "5.1.1", remoteMTA: "mx.example.net",
                        diagnostic: "550 5.1.1 <bob@example.net>: Recipient address rejected\r\nInjected: header", lastAttempt: 1_764_400_500),
                    .init(finalRecipient: "carol@example.net", action: .failed, status: "5.4.7", lastAttempt: 1_764_400_600),
                ],
                original: Self.original, headersOnly: false, boundary: "06h2k0000000abce/mx.example.test"))
    }

    @Test func delayWithHeadersOnly() throws {
        try check(
            "delayed-headers.eml",
            DeliveryStatusNotification(
                reportingMTA: "mx.example.test", to: "alice@example.test", envelopeID: nil, arrivalDate: 1_764_400_000,
                date: 1_764_414_400, messageID: "06h2k0000000abcf.dsn@mx.example.test",
                recipients: [
                    .init(
                        finalRecipient: "dave@slow.example.org", action: .delayed, status: "4.4.1", remoteMTA: "mx.slow.example.org",
                        diagnostic: "451 4.4.1 try again later", lastAttempt: 1_764_414_300, willRetryUntil: 1_764_832_000)
                ],
                original: Self.original, headersOnly: true, boundary: "06h2k0000000abcf/mx.example.test"))
    }
}
