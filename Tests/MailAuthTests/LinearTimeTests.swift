import Foundation
import DNSClient
import MailCore
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

    /// An explanation of a thousand %{S} (each URL-escaped sender) stops at the expansion cap.
    @Test func macroExpansionIsCapped() async throws {
        let evaluation = SPFEvaluation(
            verifier: SPFVerifier(resolver: ZoneResolver(records: [])), ip: [192, 0, 2, 3], sender: String(repeating: "x", count: 60) + "@email.example.com",
            helo: "mx.example.org")
        let spec = String(repeating: "%{S}", count: 1000)
        let out = try await SPFMacroString(parsing: spec, allowExplanationLetters: true).expand { await evaluation.macroValue($0, domain: "email.example.com") }
        #expect(out.utf8.count == SPFMacroString.maximumExpansion)
        let short = try await SPFMacroString(parsing: "%{S}", allowExplanationLetters: true).expand { await evaluation.macroValue($0, domain: "e.test") }
        #expect(short.utf8.count < 100)
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

/// Issue 12 item 1: every parser of attacker text, run at sizes n and 8n; time must grow about
/// linearly. Linear work grows 8x from n to 8n and quadratic 64x; the bound is 32x, with the best
/// of five interleaved runs per size, so scheduling noise does not fail it and a quadratic path
/// cannot pass. (A guard against complexity regressions, not a speed target.)
@Suite struct DoublingTests {
    static func seconds(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// The ratio of the time at 8n to the time at n, for input made by `make`: the best of five
    /// runs of each, interleaved, so both sizes see the same machine.
    static func growth(_ name: String, base: Int, make: (Int) -> [UInt8], run: ([UInt8]) -> Void) -> Double {
        let small = make(base)
        let large = make(base * 8)
        var t1 = Double.infinity
        var t8 = Double.infinity
        for _ in 0..<5 {
            t1 = min(t1, seconds { run(small) })
            t8 = min(t8, seconds { run(large) })
        }
        return t8 / max(t1, 1e-6)
    }

    static var cases: [(String, Int, (Int) -> [UInt8], ([UInt8]) -> Void)] { [
        ("header fields, folded", 5_000, { n in Array(("Subject: x\r\n" + String(repeating: " folded\r\n", count: n) + "From: a@b\r\n\r\n").utf8) },
         { bytes in _ = HeaderFields.firstValue(named: "From", in: bytes); _ = HeaderFields.count(named: "From", in: bytes) }),
        ("field count", 5_000, { n in Array((String(repeating: "X: y\r\n", count: n) + "\r\n").utf8) },
         { bytes in _ = HeaderFields.fieldCount(in: bytes) }),
        ("message header", 5_000, { n in Array((String(repeating: "X-A: y\r\n z\r\n", count: n) + "\r\nbody").utf8) },
         { bytes in _ = MessageHeader(parsing: bytes) }),
        ("address list", 1_250, { n in Array(String(repeating: "\"Name, (x)\" <a@b.test>, (comment) c@d.test, ", count: n).utf8) },
         { bytes in _ = AddressList.addrSpecs(in: String(decoding: bytes, as: UTF8.self)) }),
        ("address list, nested comments", 5_000, { n in Array((String(repeating: "(", count: n) + String(repeating: ")", count: n) + " a@b.test").utf8) },
         { bytes in _ = AddressList.addrSpecs(in: String(decoding: bytes, as: UTF8.self)) }),
        ("DKIM relaxed body", 12_500, { n in Array(String(repeating: "a  \t b \r\n\r\n", count: n).utf8) },
         { bytes in _ = DKIMCanonicalization.relaxed.body(bytes[...]) }),
        ("DKIM tag list", 1_250, { n in Array(("v=1; " + (0..<n).map { "t\($0)=v\($0)" }.joined(separator: "; ")).utf8) },
         { bytes in _ = try? TagList(parsing: String(decoding: bytes, as: UTF8.self)) }),
        ("DMARC record", 1_250, { n in Array(("v=DMARC1; p=reject; " + String(repeating: "x=y; ", count: n)).utf8) },
         { bytes in _ = DMARCRecord(parsing: String(decoding: bytes, as: UTF8.self)) }),
        ("Authentication-Results removal", 5_000, { n in Array((String(repeating: "Authentication-Results: (c) mx.test; spf=pass\r\n", count: n) + "\r\nb").utf8) },
         { bytes in _ = AuthenticationResults.removingForged(bytes, authservID: "mx.test") }),
        ("terminal escaping", 25_000, { n in Array(String(repeating: "a\u{1B}[2J\r\n\\ é", count: n).utf8) },
         { bytes in _ = TerminalText.escaped(bytes, lineBreaks: .keep) }),
    ] }

    /// Runs `body` on a thread of its own: seconds of synchronous work on Swift's cooperative
    /// pool (two threads here) would starve the other tests' tasks and time them out.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    @Test(.timeLimit(.minutes(2))) func everyParserIsLinear() async {
        let ratios = await Self.offThePool { Self.cases.map { ($0.0, Self.growth($0.0, base: $0.1, make: $0.2, run: $0.3)) } }
        for (name, ratio) in ratios {
            print("doubling: \(name): 8x input, \(String(format: "%.1f", ratio))x time")
            #expect(ratio < 32, "\(name): 8x the input took \(ratio)x the time")
        }
    }

    /// The check itself catches a quadratic function.
    @Test func aQuadraticFunctionFails() async {
        let ratio = await Self.offThePool {
            Self.growth("quadratic", base: 600, make: { Array(repeating: 1, count: $0) }) { bytes in
                var sum = 0
                for i in bytes.indices { for j in bytes.indices where j < i { sum &+= Int(bytes[j]) } }
                precondition(sum >= 0)
            }
        }
        #expect(ratio > 32)
    }
}
