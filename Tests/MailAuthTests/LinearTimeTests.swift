import Testing

@testable import MailAuth

/// Attacker-sized inputs to the mail-authentication parsers finish: work is linear in the input,
/// not quadratic. The time limits are guards against a hang, not speed targets.
@Suite struct LinearTimeTests {
    /// Issue 12: a 2 MB Authentication-Results field of "()" comments took minutes (each
    /// comment copied the rest of the value).
    @Test(.timeLimit(.minutes(1))) func authenticationResultsCommentsAreLinear() {
        let value = String(repeating: "()", count: 1_000_000) + " mx.test; spf=pass"
        let message = Array("Authentication-Results: \(value)\r\nSubject: x\r\n\r\nbody\r\n".utf8)
        let field = MessageHeader(parsing: message).fields[0]
        #expect(AuthenticationResults.authservID(of: field) == "mx.test")
        let (cleaned, removed) = AuthenticationResults.removingForged(message, authservID: "MX.test")
        #expect(removed == 1 && cleaned == Array("Subject: x\r\n\r\nbody\r\n".utf8))
        // Comments with space, and an unclosed one, as before.
        let spaced = MessageHeader(parsing: Array("A-R: (a) (b)\tid.test ; x\r\n\r\n".utf8)).fields[0]
        #expect(AuthenticationResults.authservID(of: spaced) == "id.test")
        let open = MessageHeader(parsing: Array("A-R: (never closed id.test\r\n\r\n".utf8)).fields[0]
        #expect(AuthenticationResults.authservID(of: open) == "(never")
    }

    /// Issue 12: a DKIM signature whose h= names 10,000 fields, over a header of 10,000 fields,
    /// scanned the header once per name.
    @Test(.timeLimit(.minutes(1))) func dkimSignedHeadersAreLinear() {
        var text = ""
        for i in 0..<10_000 { text += "X-F\(i % 100): v\(i)\r\n" }
        let header = MessageHeader(parsing: Array((text + "\r\nbody\r\n").utf8))
        let names = (0..<10_000).map { "x-f\($0 % 100)" }
        let data = DKIMHeaderHash.input(header: header, excluding: nil, signedHeaders: names, canonicalization: .relaxed)
        #expect(!data.isEmpty)
    }

    /// The indexed lookup picks the same fields as the definition: for each h= name, the
    /// bottom-most instance not used yet (RFC 6376 §5.4.2), skipping the signature itself.
    @Test func dkimSignedHeadersMatchTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let fieldNames = (0..<Int.random(in: 1...8, using: &generator)).map { _ in ["From", "to", "Subject", "X-A"].randomElement(using: &generator)! }
            let text = fieldNames.enumerated().map { "\($1): value \($0)\r\n" }.joined() + "\r\n"
            let header = MessageHeader(parsing: Array(text.utf8))
            let excluding = Bool.random(using: &generator) ? Int.random(in: 0..<fieldNames.count, using: &generator) : nil
            let signed = (0..<Int.random(in: 0...10, using: &generator)).map { _ in ["from", "TO", "subject", "x-a", "date"].randomElement(using: &generator)! }
            // The definition, directly.
            var used = Set<Int>()
            if let excluding { used.insert(excluding) }
            var expected: [UInt8] = []
            for name in signed {
                guard let index = header.fields.indices.last(where: { !used.contains($0) && header.fields[$0].name.lowercased() == name.lowercased() })
                else { continue }
                used.insert(index)
                expected += DKIMCanonicalization.relaxed.header(header.fields[index])
            }
            #expect(DKIMHeaderHash.input(header: header, excluding: excluding, signedHeaders: signed, canonicalization: .relaxed) == expected)
        }
    }
}

@Suite struct InputCapTests {
    @Test func dkimSignatureWithTooManySignedHeadersIsAPermanentError() {
        let names = Array(repeating: "from", count: DKIMSignature.maximumSignedHeaders + 1).joined(separator: ":")
        let tags = "v=1; a=rsa-sha256; d=example.com; s=s1; h=\(names); bh=AAAA; b=AAAA"
        #expect(throws: DKIMPermanentError.self) { try DKIMSignature(parsing: tags) }
        let fine = Array(repeating: "from", count: DKIMSignature.maximumSignedHeaders).joined(separator: ":")
        #expect(throws: Never.self) { try DKIMSignature(parsing: "v=1; a=rsa-sha256; d=example.com; s=s1; h=\(fine); bh=AAAA; b=AAAA") }
    }
}

@Suite struct SPFTruncationTests {
    /// RFC 7208 §7.3: labels go from the left until at most 253 bytes are left — in one pass.
    @Test(.timeLimit(.minutes(1))) func longExpansionsLoseLabelsOnTheLeftInLinearTime() {
        let long = String(repeating: "a.", count: 1_000_000) + "example.com"
        let cut = SPFEvaluation.truncatedOnTheLeft(long)
        #expect(cut.utf8.count <= 253 && cut.hasSuffix(".example.com") && !cut.hasPrefix("."))
        #expect(long.hasSuffix(cut))
        // Exactly as the one-label-at-a-time definition on a small case.
        let name = String(repeating: "abcdefghi.", count: 30) + "example.com"  // 311 bytes
        var reference = name
        while reference.utf8.count > 253, let dot = reference.firstIndex(of: ".") { reference = String(reference[reference.index(after: dot)...]) }
        #expect(SPFEvaluation.truncatedOnTheLeft(name) == reference)
        #expect(SPFEvaluation.truncatedOnTheLeft("short.example") == "short.example")
        #expect(SPFEvaluation.truncatedOnTheLeft(String(repeating: "x", count: 300)) == String(repeating: "x", count: 300))
    }
}
