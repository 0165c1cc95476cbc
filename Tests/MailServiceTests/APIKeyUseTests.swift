import Foundation
import MailStore
import MailStoreSQLite
import Synchronization
import Testing

@testable import MailService

/// A key's last use is written for HTTP and SMTP logins alike, at most once a minute, and never
/// for a key that failed.
@Suite struct APIKeyUseTests {
    func lastUsed(_ store: SQLiteStore, _ id: String, until: (Int?) -> Bool) async throws -> Int? {
        // The write runs in the background: wait for it, bounded.
        for _ in 0..<100 {
            let value = try store.apiKey(id: id)?.lastUsedAt
            if until(value) { return value }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try store.apiKey(id: id)?.lastUsedAt
    }

    @Test func usesAreWrittenAtMostOnceAMinute() async throws {
        let account = try await HostedAccount(prefix: "keyuse")
        let (text, record) = try await account.admin.createAPIKey(for: "alice@example.test", name: "k")
        #expect(record.lastUsedAt == nil)
        let now = Mutex(1_800_000_000)
        let use = APIKeyUse(directory: account.store, clock: { now.withLock { $0 } })
        use.note(record.id)
        #expect(try await lastUsed(account.store, record.id) { $0 != nil } == 1_800_000_000)
        now.withLock { $0 += 59 }
        use.note(record.id)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try account.store.apiKey(id: record.id)?.lastUsedAt == 1_800_000_000)
        now.withLock { $0 += 1 }
        use.note(record.id)
        #expect(try await lastUsed(account.store, record.id) { $0 == 1_800_000_060 } == 1_800_000_060)

        // Through the authenticator: the HTTP check and the SMTP password check both count; a
        // wrong secret does not.
        let (other, otherRecord) = try await account.admin.createAPIKey(for: "alice@example.test", name: "smtp")
        let authenticator = AccountAuthenticator(directory: account.store)
        let wrong = String(other.dropLast()) + (other.hasSuffix("x") ? "y" : "x")
        #expect(authenticator.apiKey(text: wrong) == nil)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try account.store.apiKey(id: otherRecord.id)?.lastUsedAt == nil)
        #expect(authenticator.account(username: "apikey", password: other) == "alice@example.test")
        #expect(try await lastUsed(account.store, otherRecord.id) { $0 != nil } != nil)
        #expect(authenticator.apiKey(text: text)?.id == record.id)
    }
}
