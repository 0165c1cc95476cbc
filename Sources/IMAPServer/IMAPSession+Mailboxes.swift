import IMAPProtocol
import MailCore
import MailStore

/// Folder commands: SELECT/EXAMINE, CREATE, DELETE, RENAME, (UN)SUBSCRIBE, LIST, LSUB, STATUS,
/// and the QUOTA commands (RFC 9208).
extension IMAPSession {
    static let delimiter: Character = "/"
    static let maximumNameLength = 255
    static let maximumFolders = 1000
    static let specialUse: [String: String] = ["Sent": "\\Sent", "Drafts": "\\Drafts", "Junk": "\\Junk", "Trash": "\\Trash", "Archive": "\\Archive"]

    /// A mailbox name as the client sent it, as stored: UTF-8, INBOX in capitals. Modified
    /// UTF-7 unless UTF8=ACCEPT is on (RFC 9051 §5.1.3, RFC 6855 §3).
    func mailboxName(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty, bytes.count <= Self.maximumNameLength * 4 else { return nil }
        var name: String
        if utf8 {
            guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
            // A UTF-8 client may still send modified UTF-7 it learned before.
            name = text
        } else {
            guard let decoded = ModifiedUTF7.decode(String(decoding: bytes, as: UTF8.self)) else { return nil }
            name = decoded
        }
        if name.uppercased() == "INBOX" { name = "INBOX" } else if name.uppercased().hasPrefix("INBOX/") { name = "INBOX" + name.dropFirst(5) }
        return name
    }

    /// Whether a name may be created: no empty levels, no wildcards or controls, bounded.
    func validNewName(_ name: String) -> Bool {
        guard name.utf8.count <= Self.maximumNameLength, !name.hasPrefix("/"), !name.hasSuffix("/"), !name.contains("//") else { return false }
        guard name.split(separator: "/").count <= 20 else { return false }
        return !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0 == "%" || $0 == "*" }
    }

    /// A name as the client is to read it.
    func encodedName(_ name: String) -> [UInt8] { Array((utf8 ? name : ModifiedUTF7.encode(name)).utf8) }

    func writeName(_ name: String) {
        out.astring(encodedName(name))
    }

    func folder(_ bytes: [UInt8]) async -> Mailbox? {
        guard let user, let name = mailboxName(bytes) else { return nil }
        return try? await mailboxes.mailbox(user: user, name: name)
    }

    func select(_ tag: String, _ nameBytes: [UInt8], _ parameters: IMAPCommand.SelectParameters, readOnly: Bool) async {
        // RFC 9051 §6.3.2: a failed SELECT leaves no mailbox selected; a new one closes the
        // old without expunging (with QRESYNC, the CLOSED code says so).
        let previous = selection ?? retained
        retained = nil
        if selection != nil {
            selection = nil
            state = .authenticated
            if qresync { out.raw("* OK [CLOSED] Previous mailbox closed\r\n") }
        }
        if parameters.condstore { condstore = true }
        if parameters.qresync != nil, !qresync {
            out.raw("\(tag) BAD QRESYNC must be enabled first\r\n")
            return
        }
        guard let mailbox = await folder(nameBytes) else {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        }
        var recentAbove = UInt32.max
        // \Recent exists only for rev1 clients (RFC 9051 dropped it).
        if !readOnly, !rev2, let claimed = try? await mailboxes.claimRecent(mailboxID: mailbox.id) { recentAbove = UInt32(claimed) }
        guard let view = await openView(mailbox, previous: previous, recentAbove: recentAbove) else {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        }
        selection = Selection(mailbox: mailbox, view: view, readOnly: readOnly)
        state = .selected
        savedResult = []
        out.raw("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
        out.raw(readOnly ? "* OK [PERMANENTFLAGS ()] Read-only\r\n" : "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags allowed\r\n")
        out.raw("* \(view.count) EXISTS\r\n")
        if !rev2 {
            out.raw("* \(view.recentCount) RECENT\r\n")
            if let first = view.messages.firstIndex(where: { !$0.flags.contains("\\Seen") }) { out.raw("* OK [UNSEEN \(first + 1)] First unseen\r\n") }
        }
        out.raw("* OK [UIDVALIDITY \(mailbox.uidValidity)] UIDs valid\r\n")
        out.raw("* OK [UIDNEXT \(mailbox.uidNext)] Predicted next UID\r\n")
        out.raw("* OK [HIGHESTMODSEQ \(mailbox.highestModSeq)] Highest\r\n")
        if rev2 {
            out.raw("* LIST () \"/\" ")
            writeName(mailbox.name)
            out.raw("\r\n")
        }
        if let resync = parameters.qresync, resync.uidValidity == UInt32(mailbox.uidValidity) {
            await resynchronize(resync, view: view)
        }
        out.raw("\(tag) OK [\(readOnly ? "READ-ONLY" : "READ-WRITE")] \(readOnly ? "EXAMINE" : "SELECT") completed\r\n")
    }

    /// The view of a folder being selected. Selecting again the folder this session had (the
    /// same folder, same UIDVALIDITY) reads only what changed since; otherwise every message.
    func openView(_ mailbox: Mailbox, previous: Selection?, recentAbove: UInt32) async -> MailboxView? {
        if let previous, previous.mailbox.id == mailbox.id, previous.view.uidValidity == UInt32(mailbox.uidValidity),
            let changes = try? await mailboxes.changes(mailboxID: mailbox.id, since: Int(previous.view.highestModSeq))
        {
            return previous.view.reopened(
                changes: changes.messages.map(Self.viewChange), expunged: changes.expunged.map { UInt32($0) },
                highestModSeq: UInt64(changes.highestModSeq), recentAbove: recentAbove)
        }
        guard let messages = try? await mailboxes.messages(mailboxID: mailbox.id) else { return nil }
        return MailboxView(
            uidValidity: UInt32(mailbox.uidValidity),
            messages: messages.map {
                MailboxView.Message(uid: UInt32($0.uid), flags: $0.flags, modSeq: UInt64($0.modSeq), size: $0.size, internalDate: $0.internalDate)
            },
            highestModSeq: UInt64(mailbox.highestModSeq), recentAbove: recentAbove)
    }

    static func viewChange(_ message: MailboxMessage) -> MailboxView.Change {
        MailboxView.Change(
            uid: UInt32(message.uid), flags: message.flags, modSeq: UInt64(message.modSeq), size: message.size, internalDate: message.internalDate)
    }

    /// QRESYNC's answer to a client's cached state (RFC 7162 §3.2.5): what vanished and what
    /// changed since its MODSEQ, among the UIDs it knows.
    func resynchronize(_ resync: IMAPCommand.QResync, view: MailboxView) async {
        guard let selected = selection, let changes = try? await mailboxes.changes(mailboxID: selected.mailbox.id, since: Int(resync.modSeq)) else {
            return
        }
        let largest = UInt32(max(selected.mailbox.uidNext - 1, 1))
        let known = resync.knownUIDs
        let vanished = changes.expunged.map { UInt32($0) }.filter { known?.contains($0, largest: largest) ?? true }
        if !vanished.isEmpty { out.raw("* VANISHED (EARLIER) \(SequenceSet.compact(vanished))\r\n") }
        for message in changes.messages {
            let uid = UInt32(message.uid)
            guard known?.contains(uid, largest: largest) ?? true, let index = view.index(ofUID: uid) else { continue }
            out.raw("* \(index + 1) FETCH (UID \(uid) FLAGS (\(message.flags.joined(separator: " "))) MODSEQ (\(message.modSeq)))\r\n")
        }
    }

    func create(_ tag: String, _ nameBytes: [UInt8]) async {
        guard let user, var name = mailboxName(nameBytes) else {
            out.raw("\(tag) NO [CANNOT] Invalid mailbox name\r\n")
            return
        }
        // RFC 9051 §6.3.4: a trailing delimiter says the client means to create children.
        if name.hasSuffix("/") { name.removeLast() }
        guard validNewName(name) else {
            out.raw("\(tag) NO [CANNOT] Invalid mailbox name\r\n")
            return
        }
        guard let existing = try? await mailboxes.mailboxes(user: user) else { return storeFailed(tag) }
        guard !existing.contains(where: { $0.name == name }) else {
            out.raw("\(tag) NO [ALREADYEXISTS] Mailbox already exists\r\n")
            return
        }
        guard existing.count < Self.maximumFolders else {
            out.raw("\(tag) NO [LIMIT] Too many mailboxes\r\n")
            return
        }
        // Missing parents are made too (RFC 9051 §6.3.4: "foo/bar/zap" creates foo and bar).
        var path = ""
        for level in name.split(separator: "/") {
            path = path.isEmpty ? String(level) : path + "/" + level
            if existing.contains(where: { $0.name == path }) { continue }
            do {
                _ = try await mailboxes.createMailbox(user: user, name: path)
                try await mailboxes.setSubscribed(user: user, name: path, true)
            } catch {
                return storeFailed(tag)
            }
        }
        ok(tag, "CREATE completed")
    }

    func delete(_ tag: String, _ nameBytes: [UInt8]) async {
        guard let user, let name = mailboxName(nameBytes) else {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        }
        guard name != "INBOX" else {
            out.raw("\(tag) NO [CANNOT] INBOX cannot be deleted\r\n")
            return
        }
        guard let all = try? await mailboxes.mailboxes(user: user) else { return storeFailed(tag) }
        guard all.contains(where: { $0.name == name }) else {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        }
        // Tern has no \Noselect folders: a folder with children keeps them, so it stays.
        if all.contains(where: { $0.name.hasPrefix(name + "/") }) {
            out.raw("\(tag) NO [INUSE] Mailbox has children; delete them first\r\n")
            return
        }
        retained = nil
        if selection?.mailbox.name == name {
            selection = nil
            state = .authenticated
        }
        do {
            try await mailboxes.deleteMailbox(user: user, name: name)
            try await mailboxes.setSubscribed(user: user, name: name, false)
        } catch {
            return storeFailed(tag)
        }
        ok(tag, "DELETE completed")
    }

    func rename(_ tag: String, _ fromBytes: [UInt8], _ toBytes: [UInt8]) async {
        guard let user, let from = mailboxName(fromBytes), let to = mailboxName(toBytes), validNewName(to) else {
            out.raw("\(tag) NO [CANNOT] Invalid mailbox name\r\n")
            return
        }
        guard to != "INBOX", !to.hasPrefix(from + "/") else {
            out.raw("\(tag) NO [CANNOT] Cannot rename to that name\r\n")
            return
        }
        do {
            try await mailboxes.renameMailbox(user: user, from: from, to: to)
            if from != "INBOX" {
                try await mailboxes.setSubscribed(user: user, name: from, false)
            }
            try await mailboxes.setSubscribed(user: user, name: to, true)
        } catch StoreError.notFound {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        } catch StoreError.alreadyExists {
            out.raw("\(tag) NO [ALREADYEXISTS] Target mailbox exists\r\n")
            return
        } catch {
            return storeFailed(tag)
        }
        retained = nil
        if let selected = selection, selected.mailbox.name == from, from != "INBOX" {
            selection = nil
            state = .authenticated
        }
        ok(tag, "RENAME completed")
    }

    func subscribe(_ tag: String, _ nameBytes: [UInt8], _ subscribed: Bool) async {
        guard let user, let name = mailboxName(nameBytes) else {
            out.raw("\(tag) NO [CANNOT] Invalid mailbox name\r\n")
            return
        }
        if subscribed, (try? await mailboxes.mailbox(user: user, name: name)) == nil {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        }
        guard (try? await mailboxes.setSubscribed(user: user, name: name, subscribed)) != nil else { return storeFailed(tag) }
        ok(tag, subscribed ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed")
    }

    func storeFailed(_ tag: String) {
        out.raw("\(tag) NO [SERVERBUG] The mailbox store failed; try again\r\n")
    }

    /// Whether `name` matches a LIST pattern: `*` any run, `%` any run without the delimiter
    /// (RFC 9051 §6.3.9). Dynamic programming over both, so no pattern can take exponential time.
    static func matches(_ name: String, pattern: String) -> Bool {
        let n = Array(name.unicodeScalars)
        let p = Array(pattern.unicodeScalars)
        var row = [Bool](repeating: false, count: n.count + 1)
        row[0] = true
        for token in p {
            var next = [Bool](repeating: false, count: n.count + 1)
            switch token {
            case "*":
                var any = false
                for i in 0...n.count {
                    any = any || row[i]
                    next[i] = any
                }
            case "%":
                var any = false
                for i in 0...n.count {
                    if row[i] { any = true }
                    next[i] = any
                    if i < n.count && n[i] == "/" { any = false }
                }
            default:
                for i in 0..<n.count where row[i] && n[i] == token { next[i + 1] = true }
            }
            row = next
        }
        return row[n.count]
    }

    func list(_ tag: String, _ command: IMAPCommand.ListCommand) async {
        guard let user else { return }
        // LIST "" "": the hierarchy delimiter and root (RFC 9051 §6.3.9).
        if command.patterns.count == 1, command.patterns[0].isEmpty {
            out.raw("* LIST (\\Noselect) \"/\" \"\"\r\n")
            return ok(tag, "LIST completed")
        }
        guard let all = try? await mailboxes.mailboxes(user: user), let subscribed = try? await mailboxes.subscriptions(user: user) else {
            return storeFailed(tag)
        }
        let reference = String(decoding: command.reference, as: UTF8.self)
        let patterns = command.patterns.compactMap { mailboxName($0) ?? String(validating: $0, as: UTF8.self) }.map { pattern -> String in
            let full = reference + pattern
            return full.uppercased().hasPrefix("INBOX") && full.count >= 5 ? "INBOX" + full.dropFirst(5) : full
        }
        let selectSubscribed = command.selection.contains("SUBSCRIBED")
        let returnSubscribed = command.returns.contains("SUBSCRIBED") || selectSubscribed
        let specialUseOnly = command.selection.contains("SPECIAL-USE")
        let names = Set(all.map(\.name))
        let subscribedSet = Set(subscribed)
        var candidates = all.map(\.name)
        if selectSubscribed { candidates = subscribed }
        for name in candidates.sorted(by: { ($0 == "INBOX" ? 0 : 1, $0) < ($1 == "INBOX" ? 0 : 1, $1) }) where patterns.contains(where: { Self.matches(name, pattern: $0) }) {
            let special = Self.specialUse[name]
            if specialUseOnly && special == nil { continue }
            var attributes: [String] = []
            if !names.contains(name) { attributes.append("\\NonExistent") }
            attributes.append(names.contains { $0.hasPrefix(name + "/") } ? "\\HasChildren" : "\\HasNoChildren")
            if let special { attributes.append(special) }
            if returnSubscribed && subscribedSet.contains(name) { attributes.append("\\Subscribed") }
            out.raw("* LIST (\(attributes.joined(separator: " "))) \"/\" ")
            writeName(name)
            out.raw("\r\n")
            if let items = command.status, let mailbox = all.first(where: { $0.name == name }) {
                await writeStatus(mailbox, items)
            }
        }
        ok(tag, "LIST completed")
    }

    func lsub(_ tag: String, _ referenceBytes: [UInt8], _ patternBytes: [UInt8]) async {
        guard let user, let subscribed = try? await mailboxes.subscriptions(user: user) else { return storeFailed(tag) }
        let pattern = String(decoding: referenceBytes, as: UTF8.self) + (mailboxName(patternBytes) ?? String(decoding: patternBytes, as: UTF8.self))
        for name in subscribed where Self.matches(name, pattern: pattern) {
            out.raw("* LSUB () \"/\" ")
            writeName(name)
            out.raw("\r\n")
        }
        ok(tag, "LSUB completed")
    }

    func status(_ tag: String, _ nameBytes: [UInt8], _ items: [IMAPCommand.StatusItem]) async {
        guard let mailbox = await folder(nameBytes) else {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        }
        await writeStatus(mailbox, items)
        ok(tag, "STATUS completed")
    }

    func writeStatus(_ mailbox: Mailbox, _ items: [IMAPCommand.StatusItem]) async {
        var messages: [MailboxMessage] = []
        if items.contains(where: { [.unseen, .deleted, .recent].contains($0) }) {
            messages = (try? await mailboxes.messages(mailboxID: mailbox.id)) ?? []
        }
        var pieces: [String] = []
        for item in items {
            let value: Int
            switch item {
            case .messages: value = mailbox.messages
            case .uidNext: value = mailbox.uidNext
            case .uidValidity: value = mailbox.uidValidity
            case .unseen: value = messages.count { !$0.flags.contains("\\Seen") }
            case .deleted: value = messages.count { $0.flags.contains("\\Deleted") }
            case .size: value = mailbox.size
            case .recent: value = 0
            case .highestModSeq:
                condstore = true
                value = mailbox.highestModSeq
            }
            pieces.append("\(item.rawValue) \(value)")
        }
        out.raw("* STATUS ")
        writeName(mailbox.name)
        out.raw(" (\(pieces.joined(separator: " ")))\r\n")
    }

    /// One quota root, "" (the user's whole store), with STORAGE in KiB (RFC 9208 §5.1).
    func getQuotaRoot(_ tag: String, _ nameBytes: [UInt8]) async {
        guard let user, let mailbox = await folder(nameBytes) else {
            out.raw("\(tag) NO [NONEXISTENT] No such mailbox\r\n")
            return
        }
        guard let usage = try? mailboxes.usage(user: user) else { return storeFailed(tag) }
        out.raw("* QUOTAROOT ")
        writeName(mailbox.name)
        if let quota = usage.quota {
            out.raw(" \"\"\r\n* QUOTA \"\" (STORAGE \((usage.bytes + 1023) / 1024) \(quota / 1024))\r\n")
        } else {
            out.raw("\r\n")
        }
        ok(tag, "GETQUOTAROOT completed")
    }

    func getQuota(_ tag: String, _ root: [UInt8]) async {
        guard let user, root.isEmpty, let usage = try? mailboxes.usage(user: user), let quota = usage.quota else {
            out.raw("\(tag) NO [NONEXISTENT] No such quota root\r\n")
            return
        }
        out.raw("* QUOTA \"\" (STORAGE \((usage.bytes + 1023) / 1024) \(quota / 1024))\r\n")
        ok(tag, "GETQUOTA completed")
    }
}
