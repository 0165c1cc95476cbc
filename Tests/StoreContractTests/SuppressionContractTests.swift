import Foundation
import MailCore
import MailStore
import Testing

/// Suppression lists and groups, and the check the store makes while storing an account's
/// message: the same on every backend.
@Suite struct SuppressionContractTests {
    @Test(arguments: StoreBackend.available)
    func listsGroupsAndTheCheckAtStoring(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await QueueContractTests.prepare(store)
            let account = "alice@example.test"
            let news = try await store.addGroup(account: account, name: "News", description: "weekly", isDefault: true, at: 1)
            let deals = try await store.addGroup(account: account, name: "Deals", description: "", isDefault: true, at: 2)
            #expect(try await store.groups(account: account).map(\.isDefault) == [false, true])
            try await store.addSuppressions([
                Suppression(account: account, list: .bounces, email: "gone@dest.test", createdAt: 10, reason: "550 no such user"),
                Suppression(account: account, list: .bounces, email: "gone@dest.test", createdAt: 99, reason: "later"),
                Suppression(account: account, list: .blocks, email: "blocked@dest.test", createdAt: 11),
                Suppression(account: account, list: .unsubscribes, email: "left@dest.test", createdAt: 12),
                Suppression(account: account, list: .group, groupID: news.id, email: "nonews@dest.test", createdAt: 13),
                Suppression(account: "bob@example.test", list: .bounces, email: "bobs@dest.test", createdAt: 14),
            ])
            let bounces = try await store.suppressions(account: account, list: .bounces, groupID: 0, email: nil, from: nil, to: nil, limit: 10, offset: 0)
            #expect(bounces.map(\.email) == ["gone@dest.test"] && bounces[0].reason == "550 no such user" && bounces[0].createdAt == 10)
            #expect(try await store.suppressions(account: account, list: .bounces, groupID: 0, email: "GONE@dest.test", from: 11, to: nil, limit: 10, offset: 0).isEmpty)
            #expect(try await store.suppressions(account: account, list: .group, groupID: news.id, email: nil, from: nil, to: nil, limit: 10, offset: 0).count == 1)

            let addresses = ["gone@dest.test", "blocked@dest.test", "left@dest.test", "nonews@dest.test", "bobs@dest.test", "fine@dest.test"]
            #expect(
                try await store.suppressedAddresses(account: account, addresses: addresses, group: news.id)
                    == ["gone@dest.test": .bounces, "left@dest.test": .unsubscribes, "nonews@dest.test": .group])
            #expect(try await store.suppressedAddresses(account: account, addresses: addresses, group: deals.id).count == 2)

            // Storing an account's message: the suppressed recipients are dropped with SendGrid's
            // reason, unless the sender bypasses that list; blocks are listed, never dropped.
            var message = try QueueContractTests.message(addresses)
            message.tags = MessageTags(asmGroupID: news.id)
            message.suppressionCheck = SuppressionCheck(account: account, bypass: [.bounces])
            try await store.enqueue(message)
            let stored = try #require(try await store.queuedMessage(id: message.id))
            #expect(stored.recipients.map(\.state) == [.queued, .queued, .dropped, .dropped, .queued, .queued])
            #expect(stored.recipients[2].lastReply == SuppressionList.unsubscribes.dropReason)
            #expect(stored.recipients[3].lastReply == SuppressionList.group.dropReason)
            #expect(try await store.events(messageID: message.id).filter { $0.type == "dropped" }.map(\.recipient) == ["left@dest.test", "nonews@dest.test"])
            // Bypassing unsubscribes bypasses group unsubscribes too (SendGrid's rule).
            var unsubscribed = try QueueContractTests.message(["left@dest.test", "nonews@dest.test", "gone@dest.test"])
            unsubscribed.tags = MessageTags(asmGroupID: news.id)
            unsubscribed.suppressionCheck = SuppressionCheck(account: account, bypass: [.unsubscribes])
            try await store.enqueue(unsubscribed)
            #expect(try await store.queuedMessage(id: unsubscribed.id)?.recipients.map(\.state) == [.queued, .queued, .dropped])
            var everything = try QueueContractTests.message(["gone@dest.test"])
            everything.suppressionCheck = SuppressionCheck(account: account, bypass: .all)
            try await store.enqueue(everything)
            #expect(try await store.queuedMessage(id: everything.id)?.recipients.map(\.state) == [.queued])

            #expect(try await store.removeSuppressions(account: account, list: .bounces, groupID: 0, emails: ["GONE@dest.test", "x@dest.test"]) == 1)
            #expect(try await !store.updateGroup(SuppressionGroup(id: news.id, account: "bob@example.test", name: "x", description: "", isDefault: false, createdAt: 1)))
            #expect(try await store.updateGroup(SuppressionGroup(id: news.id, account: account, name: "Newsletter", description: "d", isDefault: true, createdAt: 1)))
            #expect(try await store.groups(account: account).map(\.name) == ["Newsletter", "Deals"])
            #expect(try await store.groups(account: account).map(\.isDefault) == [true, false])
            #expect(try await !store.removeGroup(id: news.id, account: "bob@example.test"))
            #expect(try await store.removeGroup(id: news.id, account: account))
            #expect(try await store.suppressedAddresses(account: account, addresses: ["nonews@dest.test"], group: news.id).isEmpty)
            #expect(try await store.removeSuppressions(account: account, list: .unsubscribes, groupID: 0, emails: nil) == 1)
        }
    }
}
