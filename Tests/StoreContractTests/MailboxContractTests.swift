import Foundation
import MailCore
import MailStore
import MailStorePostgres
import Synchronization
import Testing

/// Mailboxes, the same on every backend: folders and their UIDVALIDITY, APPEND under a quota,
/// flags with MODSEQ and UNCHANGEDSINCE, copies and moves, expunges remembered for VANISHED,
/// `\Recent`, aliases and catch-alls, deliveries written with their outcome, and the signal
/// that wakes IDLE.
@Suite struct MailboxContractTests {
    static let alice = "alice@example.test"

    static func prepare(_ store: any ContractStore) async throws {
        try await store.addDomain("example.test")
        try await store.addUser(MailUser(address: alice, passwordHash: "h", plan: "free", createdAt: 1))
    }

    static func inbox(_ store: any ContractStore) async throws -> Mailbox {
        try #require(try await store.mailbox(user: alice, name: "INBOX"))
    }

    static func text(_ body: String) -> [UInt8] { Array("Subject: \(body)\r\n\r\n\(body)\r\n".utf8) }

    @Test(arguments: StoreBackend.available)
    func defaultFoldersAndFolderChanges(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            #expect(try await store.mailboxes(user: Self.alice).map(\.name) == Mailbox.defaultNames)
            #expect(try await store.subscriptions(user: Self.alice) == Mailbox.defaultNames.sorted())

            let work = try await store.createMailbox(user: Self.alice, name: "Work")
            #expect(work.name == "Work" && work.uidNext == 1 && work.messages == 0)
            await #expect(throws: StoreError.self) { _ = try await store.createMailbox(user: Self.alice, name: "Work") }
            _ = try await store.createMailbox(user: Self.alice, name: "Work/2026")
            _ = try await store.append(mailboxID: work.id, content: Self.text("w"), flags: [], internalDate: 5)
            try await store.setSubscribed(user: Self.alice, name: "Work/2026", true)

            // A folder and those below it move together, each with a larger UIDVALIDITY.
            try await store.renameMailbox(user: Self.alice, from: "Work", to: "Jobs")
            let renamed = try #require(try await store.mailbox(user: Self.alice, name: "Jobs"))
            #expect(renamed.id == work.id && renamed.uidValidity > work.uidValidity && renamed.messages == 1)
            #expect(try await store.mailbox(user: Self.alice, name: "Jobs/2026") != nil)
            #expect(try await store.mailbox(user: Self.alice, name: "Work") == nil)
            #expect(try await store.subscriptions(user: Self.alice).contains("Jobs/2026"))
            await #expect(throws: StoreError.self) { try await store.renameMailbox(user: Self.alice, from: "Jobs", to: "INBOX") }
            await #expect(throws: StoreError.self) { try await store.renameMailbox(user: Self.alice, from: "Nowhere", to: "Else") }

            // Renaming INBOX moves its messages to the new folder; INBOX stays, empty.
            let inbox = try await Self.inbox(store)
            _ = try await store.append(mailboxID: inbox.id, content: Self.text("i1"), flags: ["\\Seen"], internalDate: 6)
            _ = try await store.append(mailboxID: inbox.id, content: Self.text("i2"), flags: [], internalDate: 7)
            try await store.renameMailbox(user: Self.alice, from: "INBOX", to: "Old")
            let old = try #require(try await store.mailbox(user: Self.alice, name: "Old"))
            #expect(try await store.messages(mailboxID: old.id).map(\.flags) == [["\\Seen"], []])
            #expect(try await Self.inbox(store).messages == 0)

            // A folder made again under an old name gets a larger UIDVALIDITY.
            try await store.deleteMailbox(user: Self.alice, name: "Jobs")
            #expect(try await store.mailbox(user: Self.alice, name: "Jobs") == nil)
            let again = try await store.createMailbox(user: Self.alice, name: "Jobs")
            #expect(again.uidValidity > renamed.uidValidity)
            await #expect(throws: StoreError.self) { try await store.deleteMailbox(user: Self.alice, name: "Jobs-missing") }
            #expect(try store.usage(user: Self.alice).bytes == Self.text("i1").count + Self.text("i2").count)
        }
    }

    @Test(arguments: StoreBackend.available)
    func appendUnderQuotaAndRead(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            let inbox = try await Self.inbox(store)
            let first = try await store.append(mailboxID: inbox.id, content: Self.text("one"), flags: ["\\Seen", "$Work"], internalDate: 1000)
            let second = try await store.append(mailboxID: inbox.id, content: Self.text("two"), flags: [], internalDate: 1001)
            #expect(first.uid == 1 && second.uid == 2 && second.modSeq > first.modSeq)
            #expect(try await store.messages(mailboxID: inbox.id) == [first, second])
            #expect(try await store.content(mailboxID: inbox.id, uid: 1) == Self.text("one"))
            #expect(try await store.contents(mailboxID: inbox.id, uids: [1, 2, 9]) == [1: Self.text("one"), 2: Self.text("two")])
            #expect(try await store.content(mailboxID: inbox.id, uid: 9) == nil)
            let shown = try await Self.inbox(store)
            #expect(shown.uidNext == 3 && shown.messages == 2 && shown.size == Self.text("one").count + Self.text("two").count)
            let used = Self.text("one").count + Self.text("two").count
            #expect(try store.usage(user: Self.alice) == (bytes: used, quota: nil))

            // A quota: an APPEND past it is refused and stores nothing.
            try await store.setQuota(user: Self.alice, bytes: used + 10)
            #expect(try store.usage(user: Self.alice).quota == used + 10)
            await #expect {
                _ = try await store.append(mailboxID: inbox.id, content: Self.text("too big for it"), flags: [], internalDate: 1002)
            } throws: { error in
                guard case StoreError.limitReached(let limit) = error else { return false }
                return limit.period == "quota"
            }
            #expect(try await store.messages(mailboxID: inbox.id).count == 2)
            _ = try await store.append(mailboxID: inbox.id, content: Array("x\r\n".utf8), flags: [], internalDate: 1003)
            // Full: new mail for the user waits in the queue instead of being delivered.
            try await store.setQuota(user: Self.alice, bytes: used)
            #expect(try store.resolveLocal(Self.alice) == .mailbox(user: Self.alice, overQuota: true))
            try await store.setQuota(user: Self.alice, bytes: nil)
            #expect(try store.resolveLocal(Self.alice) == .mailbox(user: Self.alice, overQuota: false))
            await #expect(throws: StoreError.self) { try await store.setQuota(user: "nobody@example.test", bytes: 1) }
            await #expect(throws: StoreError.self) {
                _ = try await store.append(mailboxID: 999_999, content: Self.text("x"), flags: [], internalDate: 1)
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func flagsModSeqAndChanges(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            let inbox = try await Self.inbox(store)
            for n in 1...3 { _ = try await store.append(mailboxID: inbox.id, content: Self.text("m\(n)"), flags: [], internalDate: n) }
            let start = try await Self.inbox(store).highestModSeq

            let seen = try await store.storeFlags(mailboxID: inbox.id, uids: [1, 2, 7], change: FlagChange(.add, ["\\Seen"]), unchangedSince: nil)
            #expect(seen.updated.map(\.uid) == [1, 2] && seen.modified.isEmpty)
            #expect(seen.updated.allSatisfy { $0.flags == ["\\Seen"] && $0.modSeq == start + 1 })
            #expect(try await Self.inbox(store).highestModSeq == start + 1)

            // Keywords compare without case; adding what is there changes nothing.
            let again = try await store.storeFlags(mailboxID: inbox.id, uids: [1], change: FlagChange(.add, ["\\SEEN"]), unchangedSince: nil)
            #expect(again.updated.first?.modSeq == start + 1 && again.updated.first?.flags == ["\\Seen"])
            #expect(try await Self.inbox(store).highestModSeq == start + 1)

            // UNCHANGEDSINCE (RFC 7162 §3.1.3): a message changed after it is left alone.
            let conditional = try await store.storeFlags(
                mailboxID: inbox.id, uids: [1, 3], change: FlagChange(.replace, ["$Done"]), unchangedSince: start)
            #expect(conditional.modified == [1] && conditional.updated.map(\.uid) == [3])
            #expect(conditional.updated.first?.modSeq == start + 2)
            let removed = try await store.storeFlags(mailboxID: inbox.id, uids: [2], change: FlagChange(.remove, ["\\seen"]), unchangedSince: nil)
            #expect(removed.updated.first?.flags == [])

            #expect(try await store.messages(mailboxID: inbox.id).map(\.flags) == [["\\Seen"], [], ["$Done"]])
            let changes = try await store.changes(mailboxID: inbox.id, since: start + 1)
            #expect(changes.messages.map(\.uid) == [2, 3] && changes.expunged.isEmpty && changes.highestModSeq == start + 3)
            #expect(try await store.changes(mailboxID: inbox.id, since: start + 3).messages.isEmpty)

            // Expunged UIDs are remembered with their MODSEQ (VANISHED, RFC 7162 §3.2.5.2).
            #expect(try await store.expunge(mailboxID: inbox.id, uids: [2, 3, 8]) == 2)
            #expect(try await store.expunge(mailboxID: inbox.id, uids: [2]) == 0)
            let after = try await store.changes(mailboxID: inbox.id, since: start + 3)
            #expect(after.expunged == [2, 3] && after.messages.isEmpty && after.highestModSeq == start + 4)
            #expect(try store.usage(user: Self.alice).bytes == Self.text("m1").count)
            #expect(try await store.messages(mailboxID: inbox.id).map(\.uid) == [1])
        }
    }

    @Test(arguments: StoreBackend.available)
    func copyMoveAndRecent(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            let inbox = try await Self.inbox(store)
            let archive = try #require(try await store.mailbox(user: Self.alice, name: "Archive"))
            for n in 1...4 { _ = try await store.append(mailboxID: inbox.id, content: Self.text("m\(n)"), flags: n == 2 ? ["\\Flagged"] : [], internalDate: n) }
            let size = (1...4).reduce(0) { $0 + Self.text("m\($1)").count }

            // \Recent: the first claim takes everything, the next nothing new.
            #expect(try await store.claimRecent(mailboxID: inbox.id) == 0)
            #expect(try await store.claimRecent(mailboxID: inbox.id) == 4)

            let copied = try await store.copy(from: inbox.id, uids: [3, 2, 9], to: archive.id, move: false)
            #expect(copied.map(\.source) == [2, 3] && copied.map(\.copy) == [1, 2])
            let archived = try await store.messages(mailboxID: archive.id)
            #expect(archived.map(\.flags) == [["\\Flagged"], []])
            #expect(try await store.content(mailboxID: archive.id, uid: 2) == Self.text("m3"))
            #expect(try store.usage(user: Self.alice).bytes == size + Self.text("m2").count + Self.text("m3").count)

            // A move: copied and expunged at once; the content stays shared, usage unchanged.
            let moved = try await store.copy(from: inbox.id, uids: [1, 4], to: archive.id, move: true)
            #expect(moved.map(\.source) == [1, 4] && moved.map(\.copy) == [3, 4])
            #expect(try await store.messages(mailboxID: inbox.id).map(\.uid) == [2, 3])
            #expect(try await store.changes(mailboxID: inbox.id, since: 0).expunged == [1, 4])
            #expect(try await store.content(mailboxID: archive.id, uid: 4) == Self.text("m4"))
            #expect(try store.usage(user: Self.alice).bytes == size + Self.text("m2").count + Self.text("m3").count)

            // A copy past the quota stores nothing.
            try await store.setQuota(user: Self.alice, bytes: try store.usage(user: Self.alice).bytes + 1)
            await #expect(throws: StoreError.self) { _ = try await store.copy(from: inbox.id, uids: [2], to: archive.id, move: false) }
            #expect(try await store.messages(mailboxID: archive.id).count == 4)

            // The content of a message goes when the last folder lets it go.
            #expect(try await store.expunge(mailboxID: archive.id, uids: [4]) == 1)
            #expect(try await store.content(mailboxID: archive.id, uid: 4) == nil)
            #expect(try await store.copy(from: inbox.id, uids: [], to: archive.id, move: false).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aliasesCatchAllsAndResolution(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            try await store.addUser(MailUser(address: "bob@example.test", passwordHash: "h", plan: "free", createdAt: 2))
            #expect(try store.firstUser() == Self.alice)
            #expect(try store.resolveLocal("ALICE@example.test") == .mailbox(user: Self.alice, overQuota: false))
            #expect(try store.resolveLocal("alice+news@example.test") == .mailbox(user: Self.alice, overQuota: false))
            #expect(try store.resolveLocal("carol@example.test") == .unknown)

            try await store.addAlias("Team@example.test", targets: ["bob@example.test", "alice@example.test"])
            try await store.addAlias("team@example.test", targets: ["bob@example.test"])
            #expect(try store.resolveLocal("team@example.test") == .expand(["alice@example.test", "bob@example.test"]))
            // An alias shadows a user of the same address.
            try await store.addAlias("bob@example.test", targets: ["alice@example.test"])
            #expect(try store.resolveLocal("bob@example.test") == .expand(["alice@example.test"]))
            #expect(try await store.aliases().map(\.address) == ["bob@example.test", "team@example.test"])
            #expect(try await store.aliases().last?.targets == ["alice@example.test", "bob@example.test"])
            await #expect(throws: StoreError.self) { try await store.addAlias("x@elsewhere.test", targets: ["a@b.test"]) }
            await #expect(throws: StoreError.self) { try await store.addAlias("no-domain", targets: ["a@b.test"]) }
            #expect(try await store.removeAlias("BOB@example.test"))
            #expect(try await !store.removeAlias("bob@example.test"))
            #expect(try store.resolveLocal("bob@example.test") == .mailbox(user: "bob@example.test", overQuota: false))

            try await store.setCatchAll(domain: "example.test", target: "alice@example.test")
            #expect(try store.resolveLocal("carol@example.test") == .expand(["alice@example.test"]))
            #expect(try store.recipientStatus(domain: "example.test", address: "carol@example.test") == .exists)
            try await store.setCatchAll(domain: "example.test", target: nil)
            #expect(try store.resolveLocal("carol@example.test") == .unknown)
            await #expect(throws: StoreError.self) { try await store.setCatchAll(domain: "elsewhere.test", target: "a@b.test") }
        }
    }

    /// A delivery is written with its outcome, once however often the outcome is recorded,
    /// with the trace prefix in front; the user's sessions are woken.
    @Test(arguments: StoreBackend.available)
    func deliveriesLandOnceAndWakeSessions(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.prepare(store)
            let (watchID, changes) = store.mailboxSignals.watch(user: "ALICE@example.test")
            defer { store.mailboxSignals.stop(watchID) }
            let sent = try QueueContractTests.message([Self.alice], account: nil, body: "Subject: in\r\n\r\nhello\r\n")
            try await store.enqueue(sent)
            _ = try await store.leaseDue(now: 100, leaseUntil: 200, limit: 10)
            let delivery = MailboxDelivery(user: Self.alice, recipient: Self.alice, reversePath: "alice@example.test", quarantined: false)
            let outcome = DeliveryOutcome(
                messageID: sent.id, position: 0, recipient: Self.alice, state: .delivered, reply: delivery.reply, nextAttemptAt: nil, mailbox: delivery)
            try await store.record([outcome], bounces: [], at: 150)
            try await store.record([outcome], bounces: [], at: 151)
            let inbox = try await Self.inbox(store)
            let messages = try await store.messages(mailboxID: inbox.id)
            #expect(messages.count == 1 && messages.first?.messageID == sent.id && messages.first?.internalDate == 150)
            let content = try #require(try await store.content(mailboxID: inbox.id, uid: 1))
            #expect(content == delivery.prefix + Array(sent.content))
            let used = try store.usage(user: Self.alice).bytes
            #expect(messages.first?.size == content.count && used == content.count)
            // Bounded: a missing signal fails the test instead of hanging it.
            let woken = Task { () -> Bool in
                for await _ in changes { return true }
                return false
            }
            let timeout = Task {
                try? await Task.sleep(for: .seconds(5))
                woken.cancel()
            }
            #expect(await woken.value, "the user's sessions were not woken by the delivery")
            timeout.cancel()

            // Quarantined mail goes to Junk.
            let junk = MailboxDelivery(user: Self.alice, recipient: Self.alice, reversePath: "", quarantined: true)
            #expect(junk.folder == "Junk")
            let second = try QueueContractTests.message([Self.alice], account: nil)
            try await store.enqueue(second)
            _ = try await store.leaseDue(now: 200, leaseUntil: 300, limit: 10)
            try await store.record(
                [DeliveryOutcome(messageID: second.id, position: 0, recipient: Self.alice, state: .delivered, reply: junk.reply, nextAttemptAt: nil, mailbox: junk)],
                bounces: [], at: 210)
            let junkFolder = try #require(try await store.mailbox(user: Self.alice, name: "Junk"))
            #expect(junkFolder.messages == 1)
        }
    }
}

/// Two nodes on one database writing to one user's folders: UIDs never shared, the quota
/// held across both, and an IDLE session on one node woken by the other's change.
@Suite struct TwoNodeMailboxTests {
    @Test func concurrentAppendsAcrossNodes() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let first = try #require(store as? PostgresStore)
            try await MailboxContractTests.prepare(first)
            let second = try PostgresStore(url: first.url, poolSize: 4, logger: PostgresStore.quietLogger, node: "second")
            try await second.running {
                try await second.refreshDirectory()
                let inbox = try #require(try await first.mailbox(user: MailboxContractTests.alice, name: "INBOX"))
                let body = MailboxContractTests.text("concurrent")
                // Room for 30 of the 2 × 25 appends: exactly 30 succeed, whichever node made them.
                try await first.setQuota(user: MailboxContractTests.alice, bytes: 30 * body.count)
                let results = await withTaskGroup(of: Int?.self) { group in
                    for n in 0..<50 {
                        let node = n.isMultiple(of: 2) ? first : second
                        group.addTask { try? await node.append(mailboxID: inbox.id, content: body, flags: [], internalDate: n).uid }
                    }
                    var uids: [Int?] = []
                    for await uid in group { uids.append(uid) }
                    return uids
                }
                let uids = results.compactMap { $0 }
                #expect(uids.count == 30 && Set(uids).count == 30 && Set(uids) == Set(1...30))
                #expect(try await first.messages(mailboxID: inbox.id).count == 30)
                let fresh = try #require(try await second.mailbox(user: MailboxContractTests.alice, name: "INBOX"))
                #expect(fresh.uidNext == 31 && fresh.highestModSeq >= 31)
            }
        }
    }

    @Test func aChangeOnOneNodeWakesIdleOnTheOther() async throws {
        guard StoreBackend.available.contains(.postgres) else { return }
        try await StoreBackend.postgres.withStore { store in
            let first = try #require(store as? PostgresStore)
            try await MailboxContractTests.prepare(first)
            let second = try PostgresStore(url: first.url, poolSize: 4, logger: PostgresStore.quietLogger, node: "second")
            try await second.running {
                try await second.refreshDirectory()
                let (watchID, changes) = second.mailboxSignals.watch(user: MailboxContractTests.alice)
                defer { second.mailboxSignals.stop(watchID) }
                // The listener connects in the background: wait until a change is heard.
                let inbox = try #require(try await first.mailbox(user: MailboxContractTests.alice, name: "INBOX"))
                let heardChange = Mutex(false)
                let woken = Task { () -> Bool in
                    for await _ in changes {
                        heardChange.withLock { $0 = true }
                        return true
                    }
                    return false
                }
                let deadline = ContinuousClock.now + .seconds(10)
                var heard = false
                var waited: Duration = .zero
                while !heard, ContinuousClock.now < deadline {
                    let start = ContinuousClock.now
                    _ = try await first.append(mailboxID: inbox.id, content: MailboxContractTests.text("hi"), flags: [], internalDate: 1)
                    heard = try await TwoNodeDirectoryTests.within(.seconds(1)) { heardChange.withLock { $0 } }
                    waited = ContinuousClock.now - start
                }
                woken.cancel()
                #expect(heard, "node B's session was not woken by node A's APPEND")
                #expect(waited < .seconds(1))
            }
        }
    }
}
