import Foundation
import MailCore
import Testing

@testable import IMAPProtocol

/// ENVELOPE, BODYSTRUCTURE and BODY of every message in the corpus (`Tests/Golden/imap`, made by
/// `scripts/imap-corpus.py`) against the answers kept beside them (`*.structure`;
/// `TERN_UPDATE_GOLDEN=1` rewrites them). interop/test_imap_corpus.py checks the same answers,
/// as IMAPClient parses them, against Python's email package.
@Suite struct BodyStructureGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden").appendingPathComponent("imap")

    static var messages: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
    }

    @Test func theCorpusHasAtLeastThirtyMessages() {
        #expect(Self.messages.count >= 30)
    }

    @Test(arguments: messages)
    func structure(of name: String) throws {
        let message = try #require(FileManager.default.contents(atPath: Self.directory.appendingPathComponent(name).path))
        let part = MIMEPart(message: Array(message))
        var out = IMAPResponseBuffer()
        out.raw("ENVELOPE ")
        MessageStructure.envelope(part.header, into: &out)
        out.raw("\r\nBODYSTRUCTURE ")
        MessageStructure.body(part, extensible: true, into: &out)
        out.raw("\r\nBODY ")
        MessageStructure.body(part, extensible: false, into: &out)
        out.raw("\r\n")
        let path = Self.directory.appendingPathComponent(name.replacingOccurrences(of: ".eml", with: ".structure"))
        if ProcessInfo.processInfo.environment["TERN_UPDATE_GOLDEN"] != nil {
            try Data(out.bytes).write(to: path)
        }
        let expected = try #require(FileManager.default.contents(atPath: path.path), "\(path.path) missing")
        #expect(String(decoding: out.bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        // Every answer parses back as balanced parentheses with literals skipped.
        #expect(IMAPResponseBuffer.isBalanced(out.bytes))
    }
}
