import Foundation
import MailService
import MailStore
import MailStoreSQLite
import Testing

@Suite struct AdministrationTests {
    func fresh(cram: Bool = false) throws -> (Administration, AccountAuthenticator, SQLiteStore) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("tern.sqlite").path)
        let admin = Administration(store: store, hostname: "mx.example.test", planNames: ["free", "pro"], keepsCRAMSecrets: cram)
        return (admin, AccountAuthenticator(directory: store), store)
    }

    @Test func domainWithKeysAndRecords() async throws {
        let (admin, _, _) = try fresh()
        #expect(try await admin.addDomain("Example.TEST", dkim: .both, selector: "s1") == "example.test")
        let keys = try await admin.dkimKeys(domain: "example.test")
        #expect(keys.map(\.selector).sorted() == ["s1", "s1e"])
        let records = try await admin.records(domain: "example.test")
        #expect(records.map(\.type) == ["MX", "TXT", "TXT", "TXT", "TXT"])
        #expect(records[0] == DomainRecord(name: "example.test", type: "MX", value: "10 mx.example.test."))
        #expect(records.contains { $0.name == "s1._domainkey.example.test" && $0.value.hasPrefix("v=DKIM1; k=rsa; p=") })
        #expect(records.contains { $0.name == "s1e._domainkey.example.test" && $0.value.hasPrefix("v=DKIM1; k=ed25519; p=") })
        #expect(records.last?.name == "_dmarc.example.test")
        // A 2048-bit key's TXT value is split into 255-byte strings on its zone line only.
        let rsa = try #require(records.first { $0.name == "s1._domainkey.example.test" })
        #expect(rsa.value.count > 255 && rsa.zoneLine.contains("\" \""))

        try await admin.rotateDKIM(domain: "example.test", selector: "s2")
        let rotated = try await admin.dkimKeys(domain: "example.test")
        #expect(rotated.filter { $0.state == .active }.map(\.selector) == ["s2"])
        #expect(try await admin.records(domain: "example.test").filter { $0.note != nil }.count == 2)  // retired, still published
        try await admin.removeDKIMKey(domain: "example.test", selector: "s1")
        await #expect(throws: AdministrationError.notFound("example.test has no DKIM key with selector s1")) {
            try await admin.removeDKIMKey(domain: "example.test", selector: "s1")
        }
    }

    @Test func badInputIsAUsageError() async throws {
        let (admin, _, _) = try fresh()
        for bad in ["not a domain", "[192.0.2.1]", ""] {
            await #expect(throws: AdministrationError.invalid("\(bad) is not a valid domain name")) { try await admin.addDomain(bad) }
        }
        try await admin.addDomain("example.test")
        await #expect(throws: AdministrationError.unknownPlan("gold", known: ["free", "pro"])) {
            try await admin.addUser("a@example.test", plan: "gold")
        }
        await #expect(throws: AdministrationError.invalid("nobody is not a valid address")) { try await admin.addUser("nobody") }
        let error = await #expect(throws: AdministrationError.self) { try await admin.records(domain: "other.test") }
        #expect(error?.isUsageError == false)
        #expect(AdministrationError.invalid("x").isUsageError)
    }

    @Test func usersAndEveryCredentialForm() async throws {
        let (admin, authenticator, store) = try fresh(cram: true)
        try await admin.addDomain("example.test")
        let added = try await admin.addUser("Alice@Example.test", plan: "pro", password: "first-pass")
        #expect(added == AddedUser(address: "alice@example.test", plan: "pro", generatedPassword: nil))
        #expect(authenticator.account(username: "alice@example.test", password: "first-pass") == "alice@example.test")
        let stored = try #require(try store.credentials("alice@example.test"))
        #expect(stored.scram != nil && stored.cramSecret == "first-pass")

        try await admin.setPassword("alice@example.test", password: "second-pass")
        #expect(authenticator.account(username: "alice@example.test", password: "first-pass") == nil)
        #expect(authenticator.account(username: "alice@example.test", password: "second-pass") == "alice@example.test")
        let changed = try #require(try store.credentials("alice@example.test"))
        #expect(changed.scram != stored.scram && changed.cramSecret == "second-pass")
        await #expect(throws: AdministrationError.notFound("user bob@example.test not found")) {
            try await admin.setPassword("bob@example.test", password: "x")
        }
        await #expect(throws: AdministrationError.self) { try await admin.setPassword("alice@example.test", password: "") }

        let generated = try await admin.addUser("bob@example.test")
        let password = try #require(generated.generatedPassword)
        #expect(password.count == 20)
        #expect(authenticator.account(username: "bob@example.test", password: password) == "bob@example.test")
        try await admin.setPlan("bob@example.test", plan: "pro")
        #expect(try await admin.user("bob@example.test").plan == "pro")
        try await admin.removeUser("bob@example.test")
        await #expect(throws: AdministrationError.self) { try await admin.user("bob@example.test") }
    }

    @Test func operatorsAreMarkedAndUnmarked() async throws {
        let (admin, _, _) = try fresh()
        try await admin.addDomain("example.test")
        _ = try await admin.addUser("root@example.test", password: "pw-123456", isOperator: true)
        _ = try await admin.addUser("alice@example.test", password: "pw-123456")
        #expect(try await admin.users().map { "\($0.address) \($0.isOperator)" } == ["alice@example.test false", "root@example.test true"])
        try await admin.setOperator("Alice@Example.test", true)
        try await admin.setOperator("root@example.test", false)
        #expect(try await admin.user("alice@example.test").isOperator)
        #expect(try await !admin.user("root@example.test").isOperator)
        await #expect(throws: AdministrationError.notFound("user nobody@example.test not found")) {
            try await admin.setOperator("nobody@example.test", true)
        }
    }

    @Test func cramSecretOnlyWhenKept() async throws {
        let (admin, _, store) = try fresh(cram: false)
        try await admin.addDomain("example.test")
        _ = try await admin.addUser("alice@example.test", password: "pw-123456")
        #expect(try store.credentials("alice@example.test")?.cramSecret == nil)
    }

    @Test func apiKeysAndAliases() async throws {
        let (admin, authenticator, _) = try fresh()
        try await admin.addDomain("example.test")
        _ = try await admin.addUser("alice@example.test", password: "pw-123456")
        let key = try await admin.createAPIKey(for: "alice@example.test", name: "ci").text
        #expect(authenticator.account(username: "apikey", password: key) == "alice@example.test")
        var listed = try await admin.apiKeys(of: "alice@example.test")
        #expect(listed.map(\.name) == ["ci"])
        #expect(listed[0].scopes == [.full])
        // Scopes are stored and can be replaced; a key needs at least one.
        try await admin.updateAPIKey(id: listed[0].id, name: "ci-send", scopes: [.mailSend, .statsRead])
        listed = try await admin.apiKeys(of: "alice@example.test")
        #expect(listed[0].name == "ci-send" && listed[0].scopes == [.mailSend, .statsRead])
        await #expect(throws: AdministrationError.invalid("a key needs at least one scope")) {
            try await admin.updateAPIKey(id: listed[0].id, name: nil, scopes: [])
        }
        try await admin.revokeAPIKey(id: listed[0].id)
        #expect(authenticator.account(username: "apikey", password: key) == nil)
        await #expect(throws: AdministrationError.notFound("no active key \(listed[0].id)")) { try await admin.revokeAPIKey(id: listed[0].id) }

        let made = try await admin.addAlias("Sales@example.test", targets: ["alice@example.test", "Boss@Elsewhere.test"])
        #expect(made.alias == "sales@example.test" && made.targets == ["alice@example.test", "boss@elsewhere.test"])
        await #expect(throws: AdministrationError.invalid("give at least one target")) { try await admin.addAlias("x@example.test", targets: []) }
        await #expect(throws: AdministrationError.invalid("not-an-address is not a valid address")) {
            try await admin.addAlias("x@example.test", targets: ["not-an-address"])
        }
        #expect(try await admin.aliases().map(\.address) == ["sales@example.test"])
        try await admin.removeAlias("sales@example.test")
        await #expect(throws: AdministrationError.notFound("no alias sales@example.test")) { try await admin.removeAlias("sales@example.test") }
    }
}
