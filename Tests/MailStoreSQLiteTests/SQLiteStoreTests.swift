import Foundation
import MailCore
import MailStore
import Testing

@testable import MailStoreSQLite

func temporaryDatabasePath() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tern-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("tern.sqlite").path
}

func message(id: String = QueueID.make(), to recipients: [String] = ["b@h.test"], body: String = "Message-ID: <m@x>\r\n\r\nhi\r\n")
    throws -> IncomingMessage
{
    let envelope = Envelope(
        reversePath: try ReversePath(parsing: "<a@r.test>"), mailParameters: MailParameters(ret: .headers, envelopeID: "env1"),
        recipients: try recipients.map {
            EnvelopeRecipient(path: try ForwardPath(parsing: "<\($0)>"), parameters: RecipientParameters(notify: DSNNotify(failure: true)))
        })
    return IncomingMessage(id: id, envelope: envelope, content: Data(body.utf8), receivedAt: 1_700_000_000, clientAddress: "127.0.0.1", heloName: "c")
}

@Suite struct SQLiteStoreTests {
    /// A commit is durable only if the writer syncs the WAL on every commit (synchronous=FULL);
    /// GRDB's pool set-up resets it to NORMAL, so this would fail without the store's fix.
    @Test func theWriterSyncsEveryCommit() throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        #expect(try store.writerSynchronousMode() == 2)
    }

    @Test func domainsAndUsers() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.addDomain("example.test")
        await #expect(throws: StoreError.alreadyExists("domain example.test")) { try await store.addDomain("example.test") }
        #expect(try await store.isHostedDomain("example.test"))
        #expect(try await store.isHostedDomain("EXAMPLE.test"))
        #expect(try await !store.isHostedDomain("other.test"))
        let user = MailUser(address: "alice@example.test", passwordHash: "h", plan: "free", createdAt: 1)
        try await store.addUser(user)
        await #expect(throws: StoreError.self) { try await store.addUser(user) }
        await #expect(throws: StoreError.self) {
            try await store.addUser(MailUser(address: "bob@nothosted.test", passwordHash: "h", plan: "free", createdAt: 1))
        }
        #expect(try await store.user("ALICE@example.test") == user)
        #expect(try await store.listUsers() == [user])
        try await store.removeUser("alice@example.test")
        #expect(try await store.user("alice@example.test") == nil)
        await #expect(throws: StoreError.notFound("user alice@example.test")) { try await store.removeUser("alice@example.test") }
    }

    @Test func enqueueListShowRemove() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let m = try message(to: ["b@h.test", "c@h.test"])
        try await store.enqueue(m)
        let queue = try await store.listQueue()
        #expect(queue.count == 1)
        #expect(queue[0].id == m.id)
        #expect(queue[0].messageID == "<m@x>")
        #expect(queue[0].from.description == "a@r.test")
        #expect(queue[0].recipients.map(\.address) == ["b@h.test", "c@h.test"])
        #expect(queue[0].recipients.allSatisfy { $0.state == .queued && $0.notify == DSNNotify(failure: true) })
        #expect(queue[0].dsnReturn?.rawValue == "HDRS")
        #expect(queue[0].envelopeID == "env1")
        #expect(try await store.content(id: m.id) == Array("Message-ID: <m@x>\r\n\r\nhi\r\n".utf8))
        #expect(try await store.removeQueued(id: m.id))
        #expect(try await !store.removeQueued(id: m.id))
        #expect(try await store.listQueue().isEmpty)
    }

    /// Many concurrent enqueues share commits, and every one is stored exactly once.
    @Test func groupCommitUnderConcurrency() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let ids = (0..<400).map { _ in QueueID.make() }
        #expect(Set(ids).count == ids.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask { try await store.enqueue(try message(id: id)) }
            }
            try await group.waitForAll()
        }
        let stored = try await store.listQueue().map(\.id)
        #expect(Set(stored) == Set(ids))
        #expect(stored.count == ids.count)
    }

    /// One bad message (a duplicate id) fails alone; its batch neighbours are stored.
    @Test func oneFailureDoesNotFailTheBatch() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let dup = QueueID.make()
        try await store.enqueue(try message(id: dup))
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await store.enqueue(try message(id: dup))) != nil }
            for _ in 0..<20 { group.addTask { (try? await store.enqueue(try message())) != nil } }
            var ok = 0
            for try await r in group where r { ok += 1 }
            return ok
        }
        #expect(results == 20)
        #expect(try await store.listQueue().count == 21)
    }

    @Test func survivesReopen() async throws {
        let path = temporaryDatabasePath()
        let id = QueueID.make()
        do {
            let store = try SQLiteStore(path: path)
            try await store.enqueue(try message(id: id))
        }
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.queuedMessage(id: id)?.id == id)
    }

    @Test func queueIDsSortByTime() async throws {
        let first = QueueID.make()
        try await Task.sleep(for: .milliseconds(5))
        let second = QueueID.make()
        #expect(first < second)
        #expect(first.count == 16)
    }
}

@Suite struct PasswordHashTests {
    @Test func verifiesOnlyTheRightPassword() throws {
        let hash = try PasswordHash.make("correct horse", logRounds: 10)
        #expect(hash.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(PasswordHash.verify("correct horse", against: hash))
        #expect(!PasswordHash.verify("correct horsE", against: hash))
        #expect(!PasswordHash.verify("", against: hash))
        #expect(!PasswordHash.verify("x", against: "garbage"))
        #expect(try PasswordHash.make("same", logRounds: 10) != PasswordHash.make("same", logRounds: 10))  // salted
    }

    // RFC 7914 §12 test vector 2 (N=1024, r=8, p=16), as a stored hash.
    @Test func rfc7914Vector() {
        let salt = Data("NaCl".utf8).base64EncodedString()
        let expected: [UInt8] = [
            0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56, 0xe7, 0x19, 0x0d, 0x01, 0xe9, 0xfe,
            0x7c, 0x6a, 0xd7, 0xcb, 0xc8, 0x23, 0x78, 0x30, 0xe7, 0x73, 0x76, 0x63, 0x4b, 0x37, 0x31, 0x62,
            0x2e, 0xaf, 0x30, 0xd9, 0x2e, 0x22, 0xa3, 0x88, 0x6f, 0xf1, 0x09, 0x27, 0x9d, 0x98, 0x30, 0xda,
            0xc7, 0x27, 0xaf, 0xb9, 0x4a, 0x83, 0xee, 0x6d, 0x83, 0x60, 0xcb, 0xdf, 0xa2, 0xcc, 0x06, 0x40,
        ]
        let stored = "$scrypt$ln=10,r=8,p=16$\(salt)$\(Data(expected).base64EncodedString())"
        #expect(PasswordHash.verify("password", against: stored))
        #expect(!PasswordHash.verify("passwore", against: stored))
    }
}

@Suite struct APIKeyTests {
    @Test func textFormRoundTrips() throws {
        let key = APIKey.generate()
        #expect(key.text.hasPrefix("tern_"))
        #expect(APIKey(text: key.text) == key)
        #expect(APIKey(text: "tern_short_x") == nil)
        #expect(APIKey(text: "not a key") == nil)
        #expect(APIKey(text: key.text + "x") == nil)
        #expect(APIKey.matches(secret: key.secret, storedHash: key.secretHash))
        #expect(!APIKey.matches(secret: key.secret + "x", storedHash: key.secretHash))
        #expect(key.secretHash.count == 64)
        #expect(!key.secretHash.contains(key.secret))
    }

    @Test func storeCreateListRevoke() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.addDomain("example.test")
        try await store.addUser(MailUser(address: "alice@example.test", passwordHash: "h", plan: "free", createdAt: 1))
        let key = APIKey.generate()
        let record = APIKeyRecord(id: key.id, user: "alice@example.test", name: "ci", secretHash: key.secretHash, createdAt: 5)
        try await store.addAPIKey(record)
        await #expect(throws: StoreError.self) {
            try await store.addAPIKey(APIKeyRecord(id: "x", user: "nobody@example.test", name: "", secretHash: "", createdAt: 1))
        }
        #expect(try await store.listAPIKeys(user: "alice@example.test") == [record])
        #expect(try store.apiKey(id: key.id) == record)
        #expect(try await store.revokeAPIKey(id: key.id, at: 9))
        #expect(try await !store.revokeAPIKey(id: key.id, at: 10))
        #expect(try store.apiKey(id: key.id)?.revokedAt == 9)
    }
}

@Suite struct UsageTests {
    /// Twenty concurrent messages against a limit of 10 recipients: exactly ten are stored and
    /// counted, however the group commit batches them.
    @Test func limitIsAtomicUnderConcurrency() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let limit = UsageLimit(period: "day:0", limit: 10, perRecipient: true, resetsAt: 86400, name: "daily")
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    var m = try message()
                    m.charge = UsageCharge(account: "alice@h.test", recipients: 1, limits: [limit])
                    do throws(StoreError) {
                        try await store.enqueue(m)
                        return true
                    } catch {
                        #expect(error == .limitReached(limit))
                        return false
                    }
                }
            }
            var stored = 0
            for try await ok in group where ok { stored += 1 }
            return stored
        }
        #expect(outcomes == 10)
        #expect(try store.usage(user: "alice@h.test", periods: ["day:0"]) == ["day:0": 10])
        #expect(try await store.listQueue().count == 10)
    }

    @Test func perRecipientAndPerMessageUnits() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let daily = UsageLimit(period: "day:0", limit: 5, perRecipient: true, resetsAt: 86400, name: "daily")
        let minute = UsageLimit(period: "minute:0", limit: 2, perRecipient: false, resetsAt: 60, name: "per-minute")
        var first = try message(to: ["a@h.test", "b@h.test", "c@h.test"])
        first.charge = UsageCharge(account: "u", recipients: 3, limits: [daily, minute])
        try await store.enqueue(first)
        var second = try message(to: ["d@h.test", "e@h.test", "f@h.test"])
        second.charge = UsageCharge(account: "u", recipients: 3, limits: [daily, minute])
        await #expect(throws: StoreError.limitReached(daily)) { try await store.enqueue(second) }
        var third = try message(to: ["d@h.test"])
        third.charge = UsageCharge(account: "u", recipients: 1, limits: [daily, minute])
        try await store.enqueue(third)
        #expect(try store.usage(user: "u", periods: ["day:0", "minute:0"]) == ["day:0": 4, "minute:0": 2])
        var fourth = try message(to: ["g@h.test"])
        fourth.charge = UsageCharge(account: "u", recipients: 1, limits: [daily, minute])
        await #expect(throws: StoreError.limitReached(minute)) { try await store.enqueue(fourth) }
    }

    @Test func periodsResetAtUTCBoundaries() {
        let plan = PlanLimits(dailyMessages: 100, hourlyMessages: 10, messagesPerMinute: 2)
        let limits = plan.usageLimits(at: 86400 * 3 + 3600 * 5 + 61)
        #expect(limits.map(\.name) == ["daily", "hourly", "per-minute"])
        #expect(limits[0].resetsAt == 86400 * 4)
        #expect(limits[1].resetsAt == 86400 * 3 + 3600 * 6)
        #expect(limits[2].resetsAt == 86400 * 3 + 3600 * 5 + 120)
        #expect(limits[0].period != plan.usageLimits(at: 86400 * 4).first?.period)
    }
}

@Suite struct SigningKeyAndQuarantineTests {
    @Test func keysAreAddedRetiredAndRemoved() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        await #expect(throws: StoreError.notFound("domain nowhere.test")) {
            try await store.addSigningKey(StoredSigningKey(domain: "nowhere.test", selector: "a", algorithm: "rsa-sha256", privateKey: "k", createdAt: 1))
        }
        try await store.addDomain("example.test")
        try await store.addSigningKey(StoredSigningKey(domain: "example.test", selector: "old", algorithm: "rsa-sha256", privateKey: "k1", createdAt: 1))
        await #expect(throws: StoreError.self) {
            try await store.addSigningKey(StoredSigningKey(domain: "example.test", selector: "old", algorithm: "rsa-sha256", privateKey: "k", createdAt: 2))
        }
        try await store.addSigningKey(StoredSigningKey(domain: "Example.TEST", selector: "new", algorithm: "ed25519-sha256", privateKey: "k2", createdAt: 2))
        try await store.retireSigningKeys(domain: "example.test", keeping: ["new"])
        #expect(try store.activeSigningKeys(domain: "example.test").map(\.selector) == ["new"])
        #expect(try await store.signingKeys(domain: "example.test").map { "\($0.selector):\($0.state.rawValue)" } == ["old:retired", "new:active"])
        #expect(try await store.removeSigningKey(domain: "example.test", selector: "old"))
        #expect(try await !store.removeSigningKey(domain: "example.test", selector: "old"))
        #expect(try await store.signingKeys(domain: "example.test").map(\.selector) == ["new"])
    }

    @Test func quarantineIsStoredWithTheMessage() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        var junk = try message()
        junk.quarantine = "dmarc"
        let clean = try message()
        try await store.enqueue(junk)
        try await store.enqueue(clean)
        #expect(try await store.queuedMessage(id: junk.id)?.quarantine == "dmarc")
        #expect(try await store.queuedMessage(id: clean.id)?.quarantine == nil)
    }
}

/// Issue 12 item 7: content nobody refers to any more is deleted, and its bytes are gone from
/// the database file, not only from query results.
@Suite struct ContentLifecycleTests {
    static let marker = "CONTENT-MARKER-7f3a9c"
    /// Big enough for overflow pages, which SQLite puts on its free list as they are unless
    /// secure_delete zeroes them; the marker is in every line.
    static let body = "Subject: x\r\n\r\n" + String(repeating: "\(marker) line of text\r\n", count: 600)

    func fileHolds(_ path: String, _ text: String) throws -> Bool {
        let needle = Data(text.utf8)
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            if try Data(contentsOf: URL(fileURLWithPath: file)).range(of: needle) != nil { return true }
        }
        return false
    }

    /// An account's own message keeps its header section for its activity page; the body goes.
    @Test func anAccountsMessageKeepsItsHeaderOnly() async throws {
        let path = temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        var sent = try message(to: ["b@h.test"], body: "Subject: x\r\nX-Tag: \(String(Self.marker.reversed()))\r\n" + Self.body.dropFirst("Subject: x\r\n".count))
        sent.authenticatedAs = "alice@example.test"
        try await store.enqueue(sent)
        #expect(try await store.storedContent(id: sent.id) == .whole(Array(sent.content)))
        try await store.record(
            [DeliveryOutcome(messageID: sent.id, position: 0, recipient: "b@h.test", state: .delivered, reply: "250 ok", nextAttemptAt: nil)],
            bounces: [], at: 30)
        let header = "Subject: x\r\nX-Tag: \(String(Self.marker.reversed()))\r\n"
        #expect(try await store.storedContent(id: sent.id) == .header(Array(header.utf8), deletedAt: 30))
        #expect(try await store.content(id: sent.id) == nil)
        try checkpoint(store)
        #expect(try !fileHolds(path, Self.marker) && fileHolds(path, String(Self.marker.reversed())))

        // A header section longer than the limit is not kept in part.
        var long = try message(to: ["b@h.test"], body: "X-Long: " + String(repeating: "a", count: SQLiteStore.keptHeaderLimit) + "\r\n\r\nbody\r\n")
        long.authenticatedAs = "alice@example.test"
        try await store.enqueue(long)
        try await store.record(
            [DeliveryOutcome(messageID: long.id, position: 0, recipient: "b@h.test", state: .bounced, reply: "550 no", nextAttemptAt: nil)],
            bounces: [], at: 40)
        #expect(try await store.storedContent(id: long.id) == nil)
        #expect(try await store.contentDeletedAt(id: long.id) == 40)
    }

    @Test func deliveredRelayContentIsDeleted() async throws {
        let path = temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let queued = try message(to: ["b@h.test", "c@h.test"], body: Self.body)
        // Neighbours on the same page, which stay: SQLite rewrites a lone row's page whole.
        try await store.enqueue(try message(body: "Subject: before\r\n\r\nkept\r\n"))
        try await store.enqueue(queued)
        try await store.enqueue(try message(body: "Subject: after\r\n\r\nkept\r\n"))
        try checkpoint(store)
        #expect(try fileHolds(path, Self.marker))
        // One recipient still deferred: the content stays.
        try await store.record(
            [
                DeliveryOutcome(messageID: queued.id, position: 0, recipient: "b@h.test", state: .delivered, reply: "250 ok", nextAttemptAt: nil),
                DeliveryOutcome(messageID: queued.id, position: 1, recipient: "c@h.test", state: .deferred, reply: "451 later", nextAttemptAt: 5),
            ], bounces: [], at: 10)
        #expect(try await store.content(id: queued.id) != nil)
        try await store.record(
            [DeliveryOutcome(messageID: queued.id, position: 1, recipient: "c@h.test", state: .bounced, reply: "550 no", nextAttemptAt: nil)],
            bounces: [], at: 20)
        #expect(try await store.content(id: queued.id) == nil)
        #expect(try await store.contentDeletedAt(id: queued.id) == 20)
        // Mail that is no account's keeps nothing, not even its header.
        #expect(try await store.storedContent(id: queued.id) == nil)
        // The envelope and its history stay.
        #expect(try await store.queuedMessage(id: queued.id)?.recipients.map(\.state) == [.delivered, .bounced])
        try checkpoint(store)
        #expect(try !fileHolds(path, Self.marker))
    }

    /// Copies the WAL into the database file and empties it, as the server does when idle.
    func checkpoint(_ store: SQLiteStore) throws {
        try store.startBackgroundCheckpoints(interval: 60).stop()
    }

    @Test func contentGoesWithTheLastMailboxEntry() async throws {
        let path = temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        try await store.addDomain("example.test")
        for user in ["alice@example.test", "bob@example.test"] {
            try await store.addUser(MailUser(address: user, passwordHash: "h", plan: "free", createdAt: 1))
        }
        let queued = try message(to: ["alice@example.test", "bob@example.test"], body: Self.body)
        try await store.enqueue(queued)
        try await store.record(
            ["alice@example.test", "bob@example.test"].enumerated().map { position, user in
                DeliveryOutcome(
                    messageID: queued.id, position: position, recipient: user, state: .delivered, reply: "250 delivered", nextAttemptAt: nil,
                    mailbox: MailboxDelivery(user: user, folder: "INBOX", prefix: Array("Delivered-To: \(user)\r\n".utf8)))
            }, bounces: [], at: 10)
        try checkpoint(store)
        #expect(try fileHolds(path, Self.marker))
        let alice = try #require(try await store.mailbox(user: "alice@example.test", name: "INBOX"))
        let bob = try #require(try await store.mailbox(user: "bob@example.test", name: "INBOX"))
        let aliceUIDs = try await store.messages(mailboxID: alice.id).map(\.uid)
        #expect(try await store.expunge(mailboxID: alice.id, uids: aliceUIDs) == 1)
        // Bob still holds it.
        let bobUID = try #require(try await store.messages(mailboxID: bob.id).first?.uid)
        #expect(try await store.content(mailboxID: bob.id, uid: bobUID) != nil)
        #expect(try await store.content(id: queued.id) != nil)
        try await store.removeUser("bob@example.test")
        #expect(try await store.content(id: queued.id) == nil)
        try checkpoint(store)
        #expect(try !fileHolds(path, Self.marker))
    }
}

@Suite struct AliasExpansionTests {
    /// Issue 12 item 8: the ORCPT written for an expanded alias is xtext; an address with "+"
    /// or "=" was stored raw and read back as no ORCPT at all.
    @Test func expansionWritesXTextORCPT() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let original = try message(to: ["team+x=y@h.test"])
        try await store.enqueue(original)
        try await store.record(
            [
                DeliveryOutcome(
                    messageID: original.id, position: 0, recipient: "team+x=y@h.test", state: .delivered, reply: "250 expanded",
                    nextAttemptAt: nil, expansion: ["carol@h.test"])
            ], bounces: [], at: 10)
        let recipients = try #require(try await store.queuedMessage(id: original.id)).recipients
        let expanded = try #require(recipients.first { $0.address == "carol@h.test" })
        #expect(expanded.originalRecipient == OriginalRecipient(addressType: "rfc822", address: "team+x=y@h.test"))
    }
}
