import MailStore

/// The directory tables in memory, so the synchronous reads of the accept path (RCPT, AUTH,
/// the sender's domains, the plan) answer without a network round trip on an event loop, as
/// SQLite's few-microsecond reads do. `PostgresStore` reloads it when any node changes the
/// directory (`NOTIFY tern_directory` from triggers), when its listening connection comes back,
/// and every minute in case a notification was lost. Counters that move with every message
/// (plan usage, mailbox bytes) are reloaded every second instead: the checks made from them at
/// RCPT are early answers, and the charge at enqueue (one statement) is the one that counts.
struct DirectorySnapshot: Sendable {
    struct User: Sendable {
        var address: String
        var domain: String
        var passwordHash: String
        var scram: String?
        var cramSecret: String?
        var plan: String
        var quota: Int?
        var createdAt: Int
        var sandbox = false
        var trackingSettings: String? = nil
    }

    /// `directory_version` in the transaction this was read in: a snapshot replaces only an
    /// older one (two reloads may finish in either order).
    var version: Int64 = -1
    /// Keys are lowercased (addresses and domains compare without regard to ASCII case).
    var domains: Set<String> = []
    var users: [String: User] = [:]
    var aliases: [String: [String]] = [:]
    var catchAlls: [String: String] = [:]
    var sendingDomains: [String: [String]] = [:]
    var apiKeys: [String: APIKeyRecord] = [:]
    var signingKeys: [String: [StoredSigningKey]] = [:]
    /// Users in the order they were made (the postmaster fallback takes the first).
    var firstUser: String?

    /// The counters, reloaded on their own schedule.
    var usage: [String: [String: Int]] = [:]
    var usedBytes: [String: Int] = [:]
    /// This node's own changes to `usedBytes`, numbered: a reload that began before a change
    /// must not put the older value back (`keepingNewerNotes`).
    var noteCount = 0
    var notedAt: [String: Int] = [:]

    /// `loaded` (read by a reload that began when `noteCount` was `since`), with every value
    /// this node noted after that kept.
    func keepingNewerNotes(in loaded: [String: Int], since: Int) -> [String: Int] {
        var merged = loaded
        for (account, at) in notedAt where at > since { merged[account] = usedBytes[account] }
        return merged
    }

    /// Aliases first (an alias may shadow a user), then users, then the same for `user` of
    /// `user+tag`, then the domain's catch-all: SQLite's `resolveLocal`, on the snapshot.
    func resolveLocal(_ address: String, subaddressSeparator: String) -> LocalRecipient {
        let lower = address.lowercased()
        if let found = exact(lower) { return found }
        guard let at = lower.lastIndex(of: "@") else { return .unknown }
        let local = lower[..<at]
        let domain = String(lower[lower.index(after: at)...])
        if !subaddressSeparator.isEmpty, let separator = local.range(of: subaddressSeparator), separator.lowerBound > local.startIndex {
            if let found = exact("\(local[..<separator.lowerBound])@\(domain)") { return found }
        }
        if let target = catchAlls[domain] { return .expand([target]) }
        return .unknown
    }

    private func exact(_ lower: String) -> LocalRecipient? {
        if let targets = aliases[lower], !targets.isEmpty { return .expand(targets) }
        guard let user = users[lower] else { return nil }
        var overQuota = false
        if let quota = user.quota { overQuota = (usedBytes[lower] ?? 0) >= quota }
        return .mailbox(user: user.address, overQuota: overQuota)
    }

    func recipientStatus(domain: String, address: String, subaddressSeparator: String) -> RecipientStatus {
        guard domains.contains(domain.lowercased()) else { return .notHosted }
        switch resolveLocal(address, subaddressSeparator: subaddressSeparator) {
        case .mailbox(let user, let overQuota):
            if overQuota { return .overQuota }
            return users[user.lowercased()]?.quota == nil ? .exists : .existsWithQuota
        case .expand: return .exists
        case .unknown: return .unknownUser
        }
    }
}
