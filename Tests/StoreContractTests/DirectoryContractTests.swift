import MailCore
import MailStore
import Testing

/// Domains and users behave the same on every backend: names compare without regard to case,
/// duplicates are refused, a user needs its domain, new users get their folders.
@Suite struct DirectoryContractTests {
    @Test(arguments: StoreBackend.available)
    func domainsAndUsers(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.addDomain("Example.TEST")
            try await store.addDomain("b.test")
            await #expect(throws: StoreError.self) { try await store.addDomain("example.test") }
            #expect(try await store.listDomains().map(\.name) == ["b.test", "example.test"])
            #expect(try await store.isHostedDomain("EXAMPLE.test"))
            #expect(try await !store.isHostedDomain("c.test"))

            let alice = MailUser(address: "alice@example.test", passwordHash: "h", plan: "free", createdAt: 1_800_000_000, scram: "s", isOperator: true)
            try await store.addUser(alice)
            await #expect(throws: StoreError.alreadyExists("user Alice@Example.test")) {
                try await store.addUser(MailUser(address: "Alice@Example.test", passwordHash: "x", plan: "free", createdAt: 1))
            }
            await #expect(throws: StoreError.notFound("domain nowhere.test (add it with `tern domain add nowhere.test`)")) {
                try await store.addUser(MailUser(address: "bob@nowhere.test", passwordHash: "x", plan: "free", createdAt: 1))
            }
            #expect(try await store.user("ALICE@example.test") == alice)
            #expect(try await store.user("carol@example.test") == nil)
            try await store.addUser(MailUser(address: "bob@b.test", passwordHash: "h2", plan: "pro", createdAt: 1_800_000_001))
            #expect(try await store.listUsers().map(\.address) == ["bob@b.test", "alice@example.test"])
        }
    }
}

/// Dashboard sessions: found by token hash until they expire, deleted one by one or when
/// expired, gone with their user.
@Suite struct WebSessionContractTests {
    @Test(arguments: StoreBackend.available)
    func sessionsExpireAndAreDeleted(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.addDomain("example.test")
            try await store.addUser(MailUser(address: "alice@example.test", passwordHash: "h", plan: "free", createdAt: 1))
            let first = WebSessionRecord(tokenHash: Array(repeating: 1, count: 32), user: "alice@example.test", csrf: "c1", createdAt: 100, expiresAt: 200)
            let second = WebSessionRecord(tokenHash: Array(repeating: 2, count: 32), user: "alice@example.test", csrf: "c2", createdAt: 100, expiresAt: 300)
            try await store.createWebSession(first)
            try await store.createWebSession(second)
            await #expect(throws: StoreError.self) { try await store.createWebSession(first) }
            #expect(try await store.webSession(tokenHash: first.tokenHash, now: 199) == first)
            #expect(try await store.webSession(tokenHash: first.tokenHash, now: 200) == nil)
            #expect(try await store.webSession(tokenHash: Array(repeating: 3, count: 32), now: 0) == nil)
            #expect(try await store.deleteExpiredWebSessions(now: 250) == 1)
            #expect(try await store.webSession(tokenHash: second.tokenHash, now: 250) == second)
            try await store.deleteWebSession(tokenHash: second.tokenHash)
            #expect(try await store.webSession(tokenHash: second.tokenHash, now: 250) == nil)
        }
    }
}

/// Templates and versions: one active version at a time, per account, versions replaced by id,
/// removed with their template.
@Suite struct TemplateContractTests {
    @Test(arguments: StoreBackend.available)
    func templatesAndVersions(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.addDomain("example.test")
            for name in ["alice", "bob"] {
                try await store.addUser(MailUser(address: "\(name)@example.test", passwordHash: "h", plan: "free", createdAt: 1))
            }
            let id = "d-" + String(repeating: "a", count: 32)
            try await store.addTemplate(MailTemplate(id: id, account: "alice@example.test", name: "welcome", generation: "dynamic", updatedAt: 10))
            try await store.addTemplate(
                MailTemplate(id: "d-" + String(repeating: "b", count: 32), account: "alice@example.test", name: "later", generation: "legacy", updatedAt: 20))
            func version(_ vid: String, active: Bool, at: Int) -> TemplateVersion {
                TemplateVersion(id: vid, templateID: id, name: vid, subject: "Hi {{name}}", htmlContent: "<p>\(vid)</p>", plainContent: vid, active: active, updatedAt: at)
            }
            #expect(try await store.saveVersion(version("v1", active: true, at: 30), account: "alice@example.test"))
            #expect(try await store.saveVersion(version("v2", active: true, at: 40), account: "alice@example.test"))
            #expect(try await !store.saveVersion(version("v3", active: true, at: 50), account: "bob@example.test"))
            var template = try #require(try await store.template(id: id, account: "alice@example.test"))
            #expect(template.versions.map(\.id) == ["v1", "v2"] && template.activeVersion?.id == "v2" && template.updatedAt == 40)
            // Saving v1 again replaces it and makes it the active one.
            #expect(try await store.saveVersion(version("v1", active: true, at: 60), account: "alice@example.test"))
            template = try #require(try await store.template(id: id, account: "alice@example.test"))
            #expect(template.versions.map(\.id) == ["v2", "v1"] && template.activeVersion?.id == "v1")
            #expect(try await store.templates(account: "alice@example.test").map(\.name) == ["welcome", "later"])
            #expect(try await store.template(id: id, account: "bob@example.test") == nil)
            #expect(try await !store.renameTemplate(id: id, account: "bob@example.test", name: "x", at: 70))
            #expect(try await store.renameTemplate(id: id, account: "alice@example.test", name: "hello", at: 70))
            #expect(try await !store.removeVersion(id: "v2", templateID: id, account: "bob@example.test"))
            #expect(try await store.removeVersion(id: "v2", templateID: id, account: "alice@example.test"))
            #expect(try await store.template(id: id, account: "alice@example.test")?.versions.map(\.id) == ["v1"])
            #expect(try await store.removeTemplate(id: id, account: "alice@example.test"))
            #expect(try await store.templates(account: "alice@example.test").map(\.name) == ["later"])
        }
    }
}

/// What the accept path reads synchronously (RCPT, AUTH, the sender's domains, the plan), and
/// the writes that change it, the same on every backend.
@Suite struct DirectoryReadContractTests {
    @Test(arguments: StoreBackend.available)
    func recipientsCredentialsKeysAndPlans(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.addDomain("example.test")
            try await store.addDomain("other.test")
            try await store.addUser(MailUser(address: "alice@example.test", passwordHash: "hash-1", plan: "free", createdAt: 1, scram: "scram-1"))
            #expect(try store.recipientStatus(domain: "example.test", address: "alice@example.test") == .exists)
            #expect(try store.recipientStatus(domain: "example.test", address: "ALICE+news@example.test") == .exists)
            #expect(try store.recipientStatus(domain: "example.test", address: "nobody@example.test") == .unknownUser)
            #expect(try store.recipientStatus(domain: "elsewhere.test", address: "x@elsewhere.test") == .notHosted)
            #expect(try store.credentials("Alice@Example.test") == StoredCredentials(address: "alice@example.test", passwordHash: "hash-1", scram: "scram-1"))
            #expect(try store.credentials("nobody@example.test") == nil)

            try await store.setCredentials(user: "alice@example.test", passwordHash: "hash-2", scram: nil, cramSecret: "cram")
            #expect(try store.credentials("alice@example.test") == StoredCredentials(address: "alice@example.test", passwordHash: "hash-2", scram: nil, cramSecret: "cram"))
            await #expect(throws: StoreError.self) { try await store.setCredentials(user: "nobody@example.test", passwordHash: "x", scram: nil, cramSecret: nil) }

            #expect(try store.plan(user: "alice@example.test") == "free")
            try await store.setPlan(user: "alice@example.test", plan: "pro")
            #expect(try store.plan(user: "alice@example.test") == "pro" && (try store.plan(user: "nobody@example.test")) == nil)
            try await store.setOperator(user: "alice@example.test", true)
            #expect(try await store.user("alice@example.test")?.isOperator == true)
            #expect(try store.usage(user: "alice@example.test", periods: ["d:2026-11-30", "m:2026-11"]) == ["d:2026-11-30": 0, "m:2026-11": 0])

            #expect(try store.sendingDomains(user: "alice@example.test") == ["example.test"])
            try await store.allowSendingDomain(user: "alice@example.test", domain: "Other.TEST")
            try await store.allowSendingDomain(user: "alice@example.test", domain: "other.test")
            #expect(try store.sendingDomains(user: "alice@example.test") == ["example.test", "other.test"])
            await #expect(throws: StoreError.self) { try await store.allowSendingDomain(user: "nobody@example.test", domain: "other.test") }

            let key = APIKeyRecord(id: "k1", user: "alice@example.test", name: "ci", secretHash: "h", createdAt: 5, scopes: [.mailSend], sandbox: true)
            try await store.addAPIKey(key)
            await #expect(throws: StoreError.self) {
                try await store.addAPIKey(APIKeyRecord(id: "k2", user: "nobody@example.test", name: "x", secretHash: "h", createdAt: 5))
            }
            #expect(try store.apiKey(id: "k1") == key)
            #expect(try await store.updateAPIKey(id: "k1", name: "renamed", scopes: nil))
            #expect(try store.apiKey(id: "k1")?.name == "renamed" && (try store.apiKey(id: "k1"))?.scopes == [.mailSend])
            try await store.recordAPIKeyUse(id: "k1", at: 50)
            try await store.recordAPIKeyUse(id: "k1", at: 40)
            #expect(try await store.listAPIKeys(user: "alice@example.test").map(\.lastUsedAt) == [50])
            #expect(try await store.revokeAPIKey(id: "k1", at: 60))
            #expect(try await !store.revokeAPIKey(id: "k1", at: 70))
            #expect(try store.apiKey(id: "k1")?.revokedAt == 60)
            #expect(try await !store.updateAPIKey(id: "k1", name: "again", scopes: nil))

            try await store.removeUser("alice@example.test")
            await #expect(throws: StoreError.self) { try await store.removeUser("alice@example.test") }
            #expect(try store.recipientStatus(domain: "example.test", address: "alice@example.test") == .unknownUser)
            #expect(try store.credentials("alice@example.test") == nil && (try store.apiKey(id: "k1")) == nil)
        }
    }
}

/// DKIM keys: one selector per domain once, rotation retires all but the kept ones (still
/// listed, no longer signing), removal.
@Suite struct SigningKeyContractTests {
    @Test(arguments: StoreBackend.available)
    func rotationRetiresAndRemoves(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.addDomain("example.test")
            let old = StoredSigningKey(domain: "example.test", selector: "s1", algorithm: "ed25519-sha256", privateKey: "k1", createdAt: 1)
            let new = StoredSigningKey(domain: "Example.TEST", selector: "s2", algorithm: "rsa-sha256", privateKey: "k2", createdAt: 2)
            try await store.addSigningKey(old)
            await #expect(throws: StoreError.self) { try await store.addSigningKey(old) }
            await #expect(throws: StoreError.self) {
                try await store.addSigningKey(StoredSigningKey(domain: "nowhere.test", selector: "s1", algorithm: "rsa-sha256", privateKey: "k", createdAt: 1))
            }
            try await store.addSigningKey(new)
            #expect(try store.activeSigningKeys(domain: "example.test").map(\.selector) == ["s1", "s2"])
            try await store.retireSigningKeys(domain: "example.test", keeping: ["s2"])
            #expect(try store.activeSigningKeys(domain: "EXAMPLE.test").map(\.selector) == ["s2"])
            #expect(try await store.signingKeys(domain: "example.test").map(\.state) == [.retired, .active])
            #expect(try store.activeSigningKeys(domain: "other.test").isEmpty)
            #expect(try await store.removeSigningKey(domain: "example.test", selector: "s1"))
            #expect(try await !store.removeSigningKey(domain: "example.test", selector: "s1"))
            #expect(try await store.signingKeys(domain: "example.test").map(\.selector) == ["s2"])
        }
    }
}
