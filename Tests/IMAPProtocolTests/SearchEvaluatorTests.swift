import Foundation
import MailCore
import Testing

@testable import IMAPProtocol

/// SEARCH keys against messages (RFC 9051 §6.4.4).
@Suite struct SearchEvaluatorTests {
    func message(_ text: String, flags: [String] = [], sequence: Int = 1, uid: UInt32 = 1, size: Int = 100, date: Int = 0) -> SearchEvaluator.Message {
        let content = Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        return SearchEvaluator.Message(sequence: sequence, uid: uid, flags: flags, modSeq: 5, internalDate: date, size: size, content: content, structure: MIMEPart(message: content))
    }
    let evaluator = SearchEvaluator(largestSequence: 10, largestUID: 100, savedUIDs: [7])
    let sample = "From: Alice <alice@example.test>\nTo: bob@example.test\nSubject: =?UTF-8?Q?Caf=C3=A9?= menu\nDate: Tue, 1 Jul 2003 10:52:37 +0200\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nToday: soup=\n and bread\n"

    @Test func headerAndBodyText() {
        let m = message(sample)
        #expect(evaluator.matches(.from(Array("ALICE".utf8)), m))
        #expect(evaluator.matches(.to(Array("bob@".utf8)), m))
        #expect(evaluator.matches(.subject(Array("café".utf8)), m))
        #expect(!evaluator.matches(.subject(Array("tea".utf8)), m))
        // Quoted-printable soft breaks are undone before matching.
        #expect(evaluator.matches(.body(Array("soup and bread".utf8)), m))
        #expect(evaluator.matches(.text(Array("alice@example".utf8)), m))
        #expect(evaluator.matches(.header(name: "content-type", value: []), m))
        #expect(!evaluator.matches(.header(name: "X-Missing", value: []), m))
    }

    @Test func datesFlagsSizesAndSets() {
        let m = message(sample, flags: ["\\Seen", "$Work"], sequence: 3, uid: 7, size: 500, date: 1_057_049_557)
        let day = MessageDate.days(year: 2003, month: 7, day: 1)
        #expect(evaluator.matches(.sentOn(day), m) && evaluator.matches(.on(day), m) && !evaluator.matches(.before(day), m))
        #expect(evaluator.matches(.sentSince(day - 1), m) && evaluator.matches(.sentBefore(day + 1), m))
        #expect(evaluator.matches(.and([.seen, .keyword("$work"), .undeleted, .larger(499), .smaller(501)]), m))
        #expect(evaluator.matches(.or(.deleted, .not(.unseen)), m))
        #expect(evaluator.matches(.sequence(SequenceSet(parsing: "2:4")!), m) && evaluator.matches(.uid(SequenceSet(parsing: "7")!), m))
        #expect(evaluator.matches(.uid(.savedResult), m) && evaluator.matches(.sequence(SequenceSet(parsing: "*")!), message(sample, sequence: 10)))
        #expect(evaluator.matches(.modSeq(5), m) && !evaluator.matches(.modSeq(6), m))
    }
}
