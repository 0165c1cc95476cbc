import MailCore

/// SendGrid's suppression lists of an account. Mail to an address on one of them (or on the
/// message's group list) is not sent but dropped, unless the send API's `bypass_*` settings say
/// otherwise; blocks are listed only (SendGrid does not drop for them either).
public enum SuppressionList: String, CaseIterable, Hashable, Sendable {
    case bounces
    case blocks
    case spamReports = "spam_reports"
    case invalidEmails = "invalid_emails"
    case unsubscribes
    /// An unsubscribe from one suppression group (`asm_group_id`).
    case group

    /// SendGrid's `reason` of a `dropped` event for an address on this list; nil: not dropped.
    public var dropReason: String? {
        switch self {
        case .bounces: "Bounced Address"
        case .spamReports: "Spam Reporting Address"
        case .unsubscribes, .group: "Unsubscribed Address"
        case .invalidEmails: "Invalid"
        case .blocks: nil
        }
    }

    /// The list a permanent failure puts its address on: a bad address or destination
    /// (X.1.2, X.1.3) is invalid, a policy refusal (X.7.Z) a block, any other 5xx a bounce.
    /// Temporary failures put it on none.
    public static func forFailure(reply: String) -> SuppressionList? {
        guard reply.hasPrefix("5") else { return nil }
        guard let status = EnhancedStatusText(reply: reply) else { return .bounces }
        switch (status.subject, status.detail) {
        case (1, 2), (1, 3): return .invalidEmails
        case (7, _): return .blocks
        default: return .bounces
        }
    }
}

/// One address on one list of an account.
public struct Suppression: Hashable, Sendable {
    public var account: String
    public var list: SuppressionList
    /// The group of a `.group` entry, 0 otherwise.
    public var groupID: Int
    /// Lowercased.
    public var email: String
    public var createdAt: Int
    public var reason: String?
    /// The enhanced status code of a bounce or block.
    public var status: String?

    public init(account: String, list: SuppressionList, groupID: Int = 0, email: String, createdAt: Int, reason: String? = nil, status: String? = nil) {
        self.account = account
        self.list = list
        self.groupID = groupID
        self.email = email.lowercased()
        self.createdAt = createdAt
        self.reason = reason
        self.status = status
    }
}

/// A suppression group (SendGrid's unsubscribe group, `asm_group_id`).
public struct SuppressionGroup: Hashable, Sendable {
    public var id: Int
    public var account: String
    public var name: String
    public var description: String
    public var isDefault: Bool
    public var createdAt: Int

    public init(id: Int, account: String, name: String, description: String, isDefault: Bool, createdAt: Int) {
        self.id = id
        self.account = account
        self.name = name
        self.description = description
        self.isDefault = isDefault
        self.createdAt = createdAt
    }
}

/// Which lists a send ignores (the send API's `mail_settings.bypass_*`).
public struct SuppressionBypass: OptionSet, Hashable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let bounces = SuppressionBypass(rawValue: 1)
    public static let spamReports = SuppressionBypass(rawValue: 2)
    public static let unsubscribes = SuppressionBypass(rawValue: 4)
    /// `bypass_list_management`: every list.
    public static let all: SuppressionBypass = [.bounces, .spamReports, .unsubscribes, .invalidEmails]
    public static let invalidEmails = SuppressionBypass(rawValue: 8)

    /// Whether an address on `list` is sent to anyway.
    public func ignores(_ list: SuppressionList) -> Bool {
        switch list {
        case .bounces: contains(.bounces)
        case .spamReports: contains(.spamReports)
        case .unsubscribes, .group: contains(.unsubscribes)
        case .invalidEmails: contains(.invalidEmails)
        case .blocks: true
        }
    }
}

/// What `IncomingMessage.suppressionCheck` asks of the store: whose lists, and which of them the
/// sender bypasses (`mail_settings.bypass_*`).
public struct SuppressionCheck: Hashable, Sendable {
    public var account: String
    public var bypass: SuppressionBypass

    public init(account: String, bypass: SuppressionBypass) {
        self.account = account
        self.bypass = bypass
    }

    /// The dropped reason of each recipient (by position) found on `found`'s lists and not
    /// bypassed, added to `dropped`.
    public func apply(found: [String: SuppressionList], addresses: [String], to dropped: inout [Int: String]) {
        for (position, address) in addresses.enumerated() where dropped[position] == nil {
            if let list = found[address], !bypass.ignores(list), let reason = list.dropReason { dropped[position] = reason }
        }
    }
}

/// Suppression lists and groups of accounts.
public protocol SuppressionRepository: Sendable {
    /// Entries of one list, newest first; `email` filters to one address, times to a range.
    func suppressions(
        account: String, list: SuppressionList, groupID: Int, email: String?, from: Int?, to: Int?, limit: Int, offset: Int
    ) async throws(StoreError) -> [Suppression]
    /// Adds entries; an address already on the list keeps its first entry.
    func addSuppressions(_ entries: [Suppression]) async throws(StoreError)
    /// Removes `emails` from a list (nil: every entry); how many went.
    func removeSuppressions(account: String, list: SuppressionList, groupID: Int, emails: [String]?) async throws(StoreError) -> Int
    /// Which of `addresses` (lowercased) are on a list that drops mail for `account` (the global
    /// lists, and group `group`'s), with the list. (The accept path does not call this: the
    /// store checks `IncomingMessage.suppressionCheck` in its own transaction.)
    func suppressedAddresses(account: String, addresses: [String], group: Int?) async throws(StoreError) -> [String: SuppressionList]
    func addGroup(account: String, name: String, description: String, isDefault: Bool, at: Int) async throws(StoreError) -> SuppressionGroup
    func groups(account: String) async throws(StoreError) -> [SuppressionGroup]
    func updateGroup(_ group: SuppressionGroup) async throws(StoreError) -> Bool
    /// Removes a group and its entries.
    func removeGroup(id: Int, account: String) async throws(StoreError) -> Bool
}
