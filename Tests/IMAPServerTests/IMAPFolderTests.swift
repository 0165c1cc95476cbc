import Testing

@testable import IMAPServer

/// Authenticated state: SELECT/EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, LIST, LSUB, STATUS,
/// NAMESPACE, ENABLE, QUOTA.
@Suite struct IMAPFolderTests {
    @Test func selectAnswersAsRev1AndRev2Require() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        let rev1 = await h.send("a SELECT INBOX")
        #expect(rev1.contains("* 0 EXISTS\r\n* 0 RECENT\r\n") && rev1.contains("[UIDVALIDITY ") && rev1.contains("[UIDNEXT 1]"))
        #expect(rev1.contains("[PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]") && rev1.hasSuffix("a OK [READ-WRITE] SELECT completed\r\n"))
        #expect(await h.send("b ENABLE IMAP4rev2 CONDSTORE") == "* ENABLED IMAP4REV2 CONDSTORE\r\nb OK ENABLE completed\r\n")
        let rev2 = await h.send("c EXAMINE inbox")
        #expect(!rev2.contains("RECENT") && rev2.contains("* LIST () \"/\" INBOX") && rev2.hasSuffix("c OK [READ-ONLY] EXAMINE completed\r\n"))
        #expect(await h.send("d SELECT Nowhere") == "d NO [NONEXISTENT] No such mailbox\r\n")
        // A failed SELECT leaves nothing selected.
        #expect(await h.send("e FETCH 1 FLAGS") == "e BAD No mailbox selected\r\n")
        h.stop()
    }

    @Test func createListRenameDelete() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        #expect(await h.send("a CREATE Work/2026/Q1") == "a OK CREATE completed\r\n")
        #expect(await h.send("b CREATE Work") == "b NO [ALREADYEXISTS] Mailbox already exists\r\n")
        #expect(await h.send("c CREATE \"bad//name\"") == "c NO [CANNOT] Invalid mailbox name\r\n")
        let list = await h.send("d LIST \"\" Work/%")
        #expect(list == "* LIST (\\HasChildren) \"/\" Work/2026\r\nd OK LIST completed\r\n")
        let all = await h.send("e LIST \"\" *")
        #expect(all.hasPrefix("* LIST (\\HasNoChildren) \"/\" INBOX\r\n") && all.contains("* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"))
        #expect(await h.send("f LIST \"\" \"\"") == "* LIST (\\Noselect) \"/\" \"\"\r\nf OK LIST completed\r\n")
        #expect(await h.send("g RENAME Work Jobs") == "g OK RENAME completed\r\n")
        #expect(await h.send("h LIST \"\" Jobs*").contains("Jobs/2026/Q1"))
        #expect(await h.send("i DELETE Jobs") == "i NO [INUSE] Mailbox has children; delete them first\r\n")
        #expect(await h.send("j DELETE Jobs/2026/Q1") == "j OK DELETE completed\r\n")
        #expect(await h.send("k DELETE INBOX") == "k NO [CANNOT] INBOX cannot be deleted\r\n")
        #expect(await h.send("l DELETE Nowhere") == "l NO [NONEXISTENT] No such mailbox\r\n")
        h.stop()
    }

    @Test func renamingInboxMovesItsMessages() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        _ = await h.append("a", "INBOX", "Subject: x")
        #expect(await h.send("b RENAME INBOX Old") == "b OK RENAME completed\r\n")
        #expect(await h.send("c STATUS INBOX (MESSAGES)") == "* STATUS INBOX (MESSAGES 0)\r\nc OK STATUS completed\r\n")
        #expect(await h.send("d STATUS Old (MESSAGES)") == "* STATUS Old (MESSAGES 1)\r\nd OK STATUS completed\r\n")
        h.stop()
    }

    @Test func modifiedUTF7AndUTF8Names() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        #expect(await h.send("a CREATE Entw&APw-rfe") == "a OK CREATE completed\r\n")
        #expect(await h.send("b LIST \"\" Entw*") == "* LIST (\\HasNoChildren) \"/\" Entw&APw-rfe\r\nb OK LIST completed\r\n")
        _ = await h.send("c ENABLE UTF8=ACCEPT")
        #expect(await h.send("d LIST \"\" Entw*") == "* LIST (\\HasNoChildren) \"/\" \"Entw\u{fc}rfe\"\r\nd OK LIST completed\r\n")
        #expect(await h.send("e CREATE &Jjo-!").hasPrefix("e OK") == true)
        h.stop()
    }

    @Test func subscriptionsAndListExtended() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        _ = await h.send("a CREATE Lists")
        #expect(await h.send("b UNSUBSCRIBE Lists") == "b OK UNSUBSCRIBE completed\r\n")
        let lsub = await h.send("c LSUB \"\" *")
        #expect(lsub.contains("* LSUB () \"/\" Sent") && !lsub.contains("Lists"))
        let subscribed = await h.send("d LIST (SUBSCRIBED) \"\" * RETURN (CHILDREN)")
        #expect(subscribed.contains("\\Subscribed") && !subscribed.contains("Lists"))
        let special = await h.send("e LIST (SPECIAL-USE) \"\" *")
        #expect(special.contains("\\Trash") && !special.contains("INBOX"))
        let status = await h.send("f LIST \"\" (INBOX Sent) RETURN (STATUS (MESSAGES UIDNEXT))")
        #expect(status.contains("* STATUS INBOX (MESSAGES 0 UIDNEXT 1)") && status.contains("* STATUS Sent (MESSAGES 0 UIDNEXT 1)"))
        #expect(await h.send("g SUBSCRIBE Nowhere") == "g NO [NONEXISTENT] No such mailbox\r\n")
        h.stop()
    }

    @Test func statusNamespaceAndQuota() async throws {
        let h = try await IMAPHarness.make().loggedIn()
        _ = await h.append("a", "INBOX", flags: "(\\Seen)", "Subject: 1")
        _ = await h.append("b", "INBOX", flags: "(\\Deleted)", "Subject: 2")
        #expect(await h.send("c STATUS INBOX (MESSAGES UNSEEN DELETED SIZE HIGHESTMODSEQ)").hasPrefix("* STATUS INBOX (MESSAGES 2 UNSEEN 1 DELETED 1 SIZE 20 HIGHESTMODSEQ "))
        #expect(await h.send("d NAMESPACE") == "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nd OK NAMESPACE completed\r\n")
        #expect(await h.send("e GETQUOTAROOT INBOX") == "* QUOTAROOT INBOX\r\ne OK GETQUOTAROOT completed\r\n")
        try await h.store.setQuota(user: "alice@example.test", bytes: 10 * 1024)
        #expect(await h.send("f GETQUOTAROOT INBOX") == "* QUOTAROOT INBOX \"\"\r\n* QUOTA \"\" (STORAGE 1 10)\r\nf OK GETQUOTAROOT completed\r\n")
        #expect(await h.send("g SETQUOTA \"\" (STORAGE 1)").hasPrefix("g NO [NOPERM]"))
        let big = String(repeating: "x", count: 11 * 1024)
        #expect(await h.send("h APPEND INBOX {\(big.utf8.count)+}\r\n\(big)") == "h NO [OVERQUOTA] Over your mailbox quota\r\n")
        h.stop()
    }
}
