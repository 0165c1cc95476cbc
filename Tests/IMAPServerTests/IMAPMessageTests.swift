import Testing

@testable import IMAPServer

/// Selected state: APPEND, FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, CLOSE, and two
/// sessions on one mailbox.
@Suite struct IMAPMessageTests {
    static let message = "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: Lunch\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n\r\nSoup at noon?\r\n"

    func filled() async throws -> IMAPHarness {
        let h = try await IMAPHarness.make().loggedIn()
        for flags in ["", "(\\Seen)", "(\\Seen \\Flagged)"] {
            let reply = await h.append("a", "INBOX", flags: flags, Self.message)
            #expect(reply.contains("OK [APPENDUID "))
        }
        _ = await h.send("s SELECT INBOX")
        return h
    }

    @Test func appendAnswersAppendUIDAndTooBig() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        let reply = await h.send("a APPEND Drafts (\\Draft) \"01-Jul-2003 10:52:37 +0200\" {4+}\r\nx: y")
        #expect(reply.hasPrefix("a OK [APPENDUID ") && reply.hasSuffix(" 1] APPEND completed\r\n"))
        #expect(await h.send("b APPEND Nowhere {1+}\r\nx") == "b NO [TRYCREATE] No such mailbox\r\n")
        let big = String(repeating: "x", count: 100_001)
        #expect(await h.send("c APPEND INBOX {100001+}\r\n\(big)").hasPrefix("c NO [TOOBIG]"))
        _ = await h.send("d SELECT Drafts")
        #expect(await h.send("e FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)") == "* 1 FETCH (FLAGS (\\Draft) INTERNALDATE \"01-Jul-2003 08:52:37 +0000\" RFC822.SIZE 4)\r\ne OK FETCH completed\r\n")
        h.stop()
    }

    @Test func fetchBodiesSetsSeenUnlessPeek() async throws {
        let h = try await filled()
        let peek = await h.send("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        #expect(peek == "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: Lunch\r\n\r\n)\r\na OK FETCH completed\r\n")
        #expect(await h.send("b FETCH 1 FLAGS") == "* 1 FETCH (FLAGS ())\r\nb OK FETCH completed\r\n")
        #expect(await h.send("c FETCH 1 BODY[TEXT]") == "* 1 FETCH (BODY[TEXT] {15}\r\nSoup at noon?\r\n FLAGS (\\Seen))\r\nc OK FETCH completed\r\n")
        #expect(await h.send("d UID FETCH 3 (FLAGS)") == "* 3 FETCH (UID 3 FLAGS (\\Seen \\Flagged))\r\nd OK FETCH completed\r\n")
        #expect(await h.send("e FETCH 4 FLAGS") == "e BAD Invalid message sequence number\r\n")
        #expect(await h.send("f UID FETCH 4:9 FLAGS") == "f OK FETCH completed\r\n")
        let envelope = await h.send("g FETCH 2 (ENVELOPE BODYSTRUCTURE)")
        #expect(envelope.contains("ENVELOPE (\"Tue, 1 Jul 2003 10:52:37 +0200\" \"Lunch\" ((\"Bob\" NIL \"bob\" \"example.test\"))"))
        #expect(envelope.contains("BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 1 NIL NIL NIL NIL)"))
        h.stop()
    }

    @Test func storeAndConditionalStore() async throws {
        let h = try await filled()
        #expect(await h.send("a STORE 1 +FLAGS (\\Answered $Label)") == "* 1 FETCH (FLAGS (\\Answered $Label))\r\na OK STORE completed\r\n")
        #expect(await h.send("b STORE 1 -FLAGS.SILENT (\\answered)") == "b OK STORE completed\r\n")
        #expect(await h.send("c FETCH 1 FLAGS") == "* 1 FETCH (FLAGS ($Label))\r\nc OK FETCH completed\r\n")
        #expect(await h.send("d STORE 1 +FLAGS (\\Bogus)") == "d BAD Unknown system flag \\Bogus\r\n")
        let fetched = await h.send("e FETCH 1:3 (MODSEQ)")
        #expect(fetched.contains("* 1 FETCH (MODSEQ ("))
        let store = await h.send("f STORE 1:3 (UNCHANGEDSINCE 1) +FLAGS (\\Deleted)")
        #expect(store.hasSuffix("f OK [MODIFIED 1:3] Conditional STORE failed for some messages\r\n"))
        _ = await h.send("g EXAMINE INBOX")
        #expect(await h.send("h STORE 1 +FLAGS (\\Seen)") == "h NO [READ-ONLY] Mailbox is read-only\r\n")
        h.stop()
    }

    @Test func searchForms() async throws {
        let h = try await filled()
        #expect(await h.send("a SEARCH UNSEEN") == "* SEARCH 1\r\na OK SEARCH completed\r\n")
        #expect(await h.send("b UID SEARCH SEEN NOT FLAGGED") == "* SEARCH 2\r\nb OK SEARCH completed\r\n")
        #expect(await h.send("c SEARCH SUBJECT lunch BODY noon") == "* SEARCH 1 2 3\r\nc OK SEARCH completed\r\n")
        #expect(await h.send("d SEARCH RETURN (MIN MAX COUNT) SEEN") == "* ESEARCH (TAG \"d\") MIN 2 MAX 3 COUNT 2\r\nd OK SEARCH completed\r\n")
        #expect(await h.send("e SEARCH RETURN (SAVE) FLAGGED") == "* ESEARCH (TAG \"e\")\r\ne OK SEARCH completed\r\n")
        #expect(await h.send("f FETCH $ (UID)") == "* 3 FETCH (UID 3)\r\nf OK FETCH completed\r\n")
        #expect(await h.send("g SEARCH CHARSET KOI8-R ALL") == "g NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n")
        #expect(await h.send("h SEARCH SENTON 1-Jul-2003 FROM bob") == "* SEARCH 1 2 3\r\nh OK SEARCH completed\r\n")
        h.stop()
    }

    @Test func copyMoveExpungeWithUIDPlus() async throws {
        let h = try await filled()
        let copy = await h.send("a COPY 1:2 Archive")
        #expect(copy.hasPrefix("a OK [COPYUID ") && copy.hasSuffix(" 1:2 1:2] COPY completed\r\n"))
        #expect(await h.send("b COPY 1 Nowhere") == "b NO [TRYCREATE] No such mailbox\r\n")
        let move = await h.send("c UID MOVE 2 Trash")
        #expect(move.hasPrefix("* OK [COPYUID ") && move.contains(" 2 1] Moved\r\n* 2 EXPUNGE\r\nc OK MOVE completed\r\n"))
        _ = await h.send("d STORE 1 +FLAGS.SILENT (\\Deleted)")
        #expect(await h.send("e EXPUNGE") == "* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n")
        #expect(await h.send("f FETCH 1:* (UID)") == "* 1 FETCH (UID 3)\r\nf OK FETCH completed\r\n")
        _ = await h.send("g STORE 1 +FLAGS.SILENT (\\Deleted)")
        #expect(await h.send("h UID EXPUNGE 1:2") == "h OK EXPUNGE completed\r\n")
        #expect(await h.send("i CLOSE") == "i OK CLOSE completed\r\n")
        #expect(await h.send("j STATUS INBOX (MESSAGES)") == "* STATUS INBOX (MESSAGES 0)\r\nj OK STATUS completed\r\n")
        #expect(await h.send("k STATUS Archive (MESSAGES)") == "* STATUS Archive (MESSAGES 2)\r\nk OK STATUS completed\r\n")
        h.stop()
    }

    @Test func otherSessionsChangesAreAnnouncedAtTheNextCommand() async throws {
        let a = try await filled()
        let b = try await IMAPHarness.make(store: a.store).loggedIn()
        _ = await b.send("s SELECT INBOX")
        _ = await b.send("t STORE 1 +FLAGS.SILENT (\\Flagged)")
        _ = await b.append("u", "INBOX", "Subject: z")
        let noop = await a.send("n NOOP")
        #expect(noop == "* 1 FETCH (FLAGS (\\Flagged))\r\n* 4 EXISTS\r\n* 4 RECENT\r\nn OK NOOP completed\r\n")
        _ = await b.send("v STORE 2 +FLAGS.SILENT (\\Deleted)")
        _ = await b.send("w EXPUNGE")
        // Not during FETCH by sequence number (the message keeps its number)...
        let fetch = await a.send("f FETCH 2 (UID)")
        #expect(fetch.hasPrefix("f OK") || fetch.contains("EXPUNGEISSUED") || fetch == "* 2 FETCH (UID 2)\r\nf OK FETCH completed\r\n")
        #expect(!fetch.contains("EXPUNGE\r\n"))
        // ...but at the next command that allows it.
        #expect(await a.send("g NOOP") == "* 2 EXPUNGE\r\ng OK NOOP completed\r\n")
        a.stop()
        b.stop()
    }

    @Test func anotherSessionsChangeIsNotLostBehindOurOwnStore() async throws {
        let a = try await filled()
        let b = try await IMAPHarness.make(store: a.store).loggedIn()
        _ = await b.send("s SELECT INBOX")
        _ = await b.send("t STORE 1 +FLAGS.SILENT (\\Flagged)")
        // A's own STORE takes the next MODSEQ after B's: B's change must still reach A.
        let own = await a.send("u STORE 2 +FLAGS (\\Answered)")
        let next = await a.send("v NOOP")
        #expect((own + next).contains("* 1 FETCH (FLAGS (\\Flagged))"))
        #expect(await a.send("w NOOP") == "w OK NOOP completed\r\n")
        a.stop()
        b.stop()
    }

    /// SELECT of the folder a session had reads only what changed since (`MailboxView.reopened`):
    /// the answer must equal what a fresh session sees.
    @Test func selectingTheSameFolderAgainSeesEveryChange() async throws {
        let a = try await filled()
        _ = await a.send("x STORE 1 +FLAGS.SILENT (\\Deleted)")
        _ = await a.send("y CLOSE")
        let b = try await IMAPHarness.make(store: a.store).loggedIn()
        _ = await b.send("s SELECT INBOX")
        _ = await b.send("t STORE 1 +FLAGS.SILENT (\\Flagged)")
        _ = await b.append("u", "INBOX", "Subject: z")
        _ = await b.append("v", "INBOX", "Subject: w")
        _ = await b.send("w STORE 4 +FLAGS.SILENT (\\Deleted)")
        _ = await b.send("x EXPUNGE")
        // A selects INBOX again (after CLOSE), then another folder and INBOX again.
        let again = await a.send("s SELECT INBOX")
        #expect(again.contains("* 3 EXISTS\r\n"))
        let fresh = try await IMAPHarness.make(store: a.store).loggedIn()
        _ = await fresh.send("s SELECT INBOX")
        let expected = await fresh.send("f FETCH 1:* (UID FLAGS MODSEQ)")
        #expect(await a.send("f FETCH 1:* (UID FLAGS MODSEQ)") == expected)
        #expect(expected.contains("UID 2 FLAGS (\\Seen \\Flagged)") && expected.contains("UID 3 FLAGS (\\Seen \\Flagged)"))
        _ = await b.send("y STORE 1 -FLAGS.SILENT (\\Seen)")
        _ = await a.send("t SELECT Drafts")
        _ = await a.send("u SELECT INBOX")
        _ = await fresh.send("n NOOP")
        #expect(await a.send("g FETCH 1:* (UID FLAGS MODSEQ)") == (await fresh.send("g FETCH 1:* (UID FLAGS MODSEQ)")))
        a.stop()
        b.stop()
        fresh.stop()
    }

    @Test func idleAnnouncesAtOnceAndEndsWithDone() async throws {
        let a = try await filled()
        a.input.yield(.command(Array("i IDLE\r\n".utf8)))
        #expect(await a.waitFor("+ idling").contains("+ idling"))
        let b = try await IMAPHarness.make(store: a.store).loggedIn()
        _ = await b.append("u", "INBOX", "Subject: z")
        #expect(await a.waitFor("EXISTS").contains("* 4 EXISTS"))
        await a.line("DONE")
        #expect(await a.finishCommand().hasSuffix("i OK IDLE terminated\r\n"))
        a.stop()
        b.stop()
    }

    @Test func qresyncReportsVanishedAndChanges() async throws {
        let h = try await filled()
        _ = await h.send("a ENABLE QRESYNC")
        let selected = await h.send("b SELECT INBOX")
        let validity = selected.split(separator: "[UIDVALIDITY ")[1].split(separator: "]")[0]
        let highest = Int(selected.split(separator: "[HIGHESTMODSEQ ")[1].split(separator: "]")[0])!
        _ = await h.send("c STORE 1 +FLAGS.SILENT (\\Deleted)")
        #expect(await h.send("d EXPUNGE").hasPrefix("* VANISHED 1\r\nd OK [HIGHESTMODSEQ "))
        _ = await h.send("e UID STORE 2 +FLAGS.SILENT ($Done)")
        let resync = await h.send("f SELECT INBOX (QRESYNC (\(validity) \(highest) 1:3))")
        #expect(resync.contains("* OK [CLOSED]"))
        #expect(resync.contains("* VANISHED (EARLIER) 1\r\n"))
        #expect(resync.contains("FETCH (UID 2 FLAGS (\\Seen $Done) MODSEQ ("))
        let changed = await h.send("g UID FETCH 1:* (FLAGS) (CHANGEDSINCE \(highest) VANISHED)")
        #expect(changed.hasPrefix("* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Seen $Done) MODSEQ ("))
        h.stop()
    }
}
