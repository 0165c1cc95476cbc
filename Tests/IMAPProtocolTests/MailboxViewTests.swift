import Testing

@testable import IMAPProtocol

/// The selected-mailbox view: sequence numbers, UID lookups, and which untagged responses
/// announce other sessions' changes, and when (RFC 9051 §7.5.1).
@Suite struct MailboxViewTests {
    func view(_ uids: [UInt32]) -> MailboxView {
        MailboxView(uidValidity: 7, messages: uids.map { MailboxView.Message(uid: $0, flags: [], modSeq: 1) }, highestModSeq: 1)
    }
    func set(_ text: String) -> SequenceSet { SequenceSet(parsing: Substring(text))! }
    func announce(_ v: inout MailboxView, expunge: Bool = true, condstore: Bool = false, qresync: Bool = false, rev1: Bool = false) -> String {
        var out = IMAPResponseBuffer()
        v.announce(allowExpunge: expunge, condstore: condstore, qresync: qresync, rev1: rev1, out: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    @Test func sequenceAndUIDSets() {
        let v = view([3, 5, 9, 10])
        #expect(v.indices(set("2:3"), uid: false) == [1, 2])
        #expect(v.indices(set("*"), uid: false) == [3])
        #expect(v.indices(set("5"), uid: false) == nil)
        #expect(v.indices(set("4:9"), uid: true) == [1, 2])
        #expect(v.indices(set("100:*"), uid: true) == [3])
        #expect(v.indices(set("1,2,4"), uid: true) == [])
        #expect(view([]).indices(set("1:*"), uid: false) == nil)
        #expect(view([]).indices(set("1:*"), uid: true) == [])
        #expect(v.index(ofUID: 9) == 2 && v.index(ofUID: 4) == nil)
    }

    @Test func expungesWaitUntilTheyMayBeSent() {
        var v = view([1, 2, 3, 4])
        v.apply(changes: [], expunged: [2, 3], highestModSeq: 5)
        // During FETCH by sequence number: nothing about the expunge, numbers stay.
        #expect(announce(&v, expunge: false) == "")
        #expect(v.count == 4 && v.indices(set("4"), uid: false) == [3])
        // At the next command that may: each EXPUNGE renumbers the rest.
        #expect(announce(&v) == "* 2 EXPUNGE\r\n* 2 EXPUNGE\r\n")
        #expect(v.count == 2 && v.messages.map(\.uid) == [1, 4])
    }

    @Test func qresyncSaysVanished() {
        var v = view([1, 2, 3, 4, 8])
        v.apply(changes: [], expunged: [2, 3, 8], highestModSeq: 5)
        #expect(announce(&v, qresync: true) == "* VANISHED 2:3,8\r\n")
    }

    @Test func newMessagesAndFlagChanges() {
        var v = view([1, 2])
        v.apply(changes: [.init(uid: 2, flags: ["\\Seen"], modSeq: 4), .init(uid: 5, flags: [], modSeq: 5)], expunged: [], highestModSeq: 5)
        #expect(announce(&v, rev1: true) == "* 2 FETCH (FLAGS (\\Seen))\r\n* 3 EXISTS\r\n* 0 RECENT\r\n")
        #expect(v.highestModSeq == 5)
        // Nothing new: nothing said.
        #expect(announce(&v) == "")
        v.apply(changes: [.init(uid: 1, flags: ["\\Flagged"], modSeq: 6)], expunged: [], highestModSeq: 6)
        #expect(announce(&v, condstore: true) == "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (6))\r\n")
    }

    @Test func ownChangesMoveHighestModSeqOnlyWithoutAGap() {
        var v = view([1, 2])
        v.setFlags(at: 0, ["\\Seen"], modSeq: 2)
        #expect(v.highestModSeq == 2)
        // Another session's change took MODSEQ 3; ours is 4: the view must still read from 2.
        v.setFlags(at: 1, ["\\Flagged"], modSeq: 4)
        #expect(v.highestModSeq == 2)
    }

    @Test func ownChangesAreNotAnnouncedAgain() {
        var v = view([1, 2])
        v.setFlags(at: 0, ["\\Seen"], modSeq: 3)
        v.apply(changes: [.init(uid: 1, flags: ["\\Seen"], modSeq: 3)], expunged: [], highestModSeq: 3)
        #expect(announce(&v) == "")
    }

    @Test func removeNumbersAsSent() {
        var v = view([10, 20, 30, 40, 50])
        let (numbers, uids) = v.remove(uids: [20, 40, 50])
        #expect(numbers == [2, 3, 3] && uids == [20, 40, 50])
        #expect(SequenceSet.compact([5, 1, 2, 3, 9, 10, 12]) == "1:3,5,9:10,12")
    }

    @Test func reopenedAppliesChangesAndDropsExpunged() {
        var v = view([1, 2, 3])
        v.apply(changes: [], expunged: [2], highestModSeq: 2)  // not yet announced
        let reopened = v.reopened(
            changes: [MailboxView.Change(uid: 1, flags: ["\\Seen"], modSeq: 4), MailboxView.Change(uid: 7, flags: [], modSeq: 5, size: 9)],
            expunged: [3], highestModSeq: 5, recentAbove: 6)
        #expect(reopened.messages.map(\.uid) == [1, 7])
        #expect(reopened.messages[0].flags == ["\\Seen"] && reopened.messages[1].size == 9)
        #expect(reopened.highestModSeq == 5 && reopened.uidValidity == 7 && reopened.recentCount == 1)
        // A fresh view: nothing left to announce.
        var fresh = reopened
        #expect(announce(&fresh) == "")
    }
}
