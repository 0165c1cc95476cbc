import IMAPProtocol
import MailCore
import MailStore

/// Message commands: FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, CLOSE, APPEND.
extension IMAPSession {
    static let systemFlags: Set<String> = ["\\seen", "\\answered", "\\flagged", "\\deleted", "\\draft"]
    /// Bytes gathered before they are written, so a large FETCH streams instead of piling up.
    static let outputChunk = 64 * 1024

    /// The indices a set names in the selected mailbox, or nil after answering `BAD`.
    func resolve(_ tag: String, _ set: SequenceSet, uid: Bool) -> [Int]? {
        guard let selected = selection else { return nil }
        // `$` (RFC 5182): the saved UIDs, whether the command is by UID or not.
        if set.isSavedResult { return selected.view.messages.indices.filter { savedResult.contains(selected.view.messages[$0].uid) } }
        guard let indices = selected.view.indices(set, uid: uid) else {
            out.raw("\(tag) BAD Invalid message sequence number\r\n")
            return nil
        }
        return indices
    }

    func structureKey(_ uid: UInt32) -> MessageStructureCache.Key? {
        guard let selected = selection else { return nil }
        return MessageStructureCache.Key(mailboxID: selected.mailbox.id, uidValidity: selected.mailbox.uidValidity, uid: Int(uid))
    }

    /// Contents and MIME trees of the messages at `indices`, read from the store in one go;
    /// a message that is gone is missing from the answer.
    func load(_ indices: ArraySlice<Int>) async -> [Int: (content: [UInt8], structure: MIMEPart)] {
        guard let selected = selection else { return [:] }
        let uids = indices.map { Int(selected.view.messages[$0].uid) }
        guard let contents = try? await mailboxes.contents(mailboxID: selected.mailbox.id, uids: uids) else { return [:] }
        var out: [Int: (content: [UInt8], structure: MIMEPart)] = [:]
        for index in indices {
            let uid = selected.view.messages[index].uid
            guard let content = contents[Int(uid)], let key = structureKey(uid) else { continue }
            out[index] = (content, structures.structure(key, content: content))
        }
        return out
    }

    /// Messages are loaded this many at a time, so memory stays bounded on a large FETCH.
    static let loadBatch = 64

    func fetch(_ tag: String, _ set: SequenceSet, _ requested: [FetchAttribute], changedSince: UInt64?, vanished: Bool, uid: Bool) async {
        guard var indices = resolve(tag, set, uid: uid), let mailbox = selection?.mailbox else { return }
        if changedSince != nil || requested.contains(.modSeq) { condstore = true }
        var attributes = requested
        if let changedSince {
            indices = indices.filter { selection!.view.messages[$0].modSeq > changedSince }
            if vanished, let changes = try? await mailboxes.changes(mailboxID: mailbox.id, since: Int(changedSince)) {
                let largest = UInt32(max(mailbox.uidNext - 1, 1))
                let gone = changes.expunged.map { UInt32($0) }.filter { set.contains($0, largest: max(largest, selection!.view.messages.last?.uid ?? 0)) }
                if !gone.isEmpty { out.raw("* VANISHED (EARLIER) \(SequenceSet.compact(gone))\r\n") }
            }
        }
        // Fetching a body part sets \Seen (RFC 9051 §6.4.5) unless the mailbox is read-only.
        if !selection!.readOnly, attributes.contains(where: \.setsSeen) {
            let unseen = indices.filter { !selection!.view.messages[$0].flags.contains("\\Seen") && !selection!.view.messages[$0].expunged }
            if !unseen.isEmpty {
                let uids = unseen.map { Int(selection!.view.messages[$0].uid) }
                if let result = try? await mailboxes.storeFlags(mailboxID: mailbox.id, uids: uids, change: FlagChange(.add, ["\\Seen"]), unchangedSince: nil) {
                    for message in result.updated {
                        if let index = selection!.view.index(ofUID: UInt32(message.uid)) {
                            selection!.view.setFlags(at: index, message.flags, modSeq: UInt64(message.modSeq))
                        }
                    }
                }
                if !attributes.contains(.flags) { attributes.append(.flags) }
            }
        }
        let needsContent = attributes.contains(where: \.needsContent)
        var missing = false
        for start in stride(from: 0, to: indices.count, by: Self.loadBatch) {
            let batch = indices[start..<min(start + Self.loadBatch, indices.count)]
            let loaded = needsContent ? await load(batch) : [:]
            for index in batch {
                let message = selection!.view.messages[index]
                var fetched = FetchedMessage(
                    sequence: index + 1, uid: message.uid, flags: message.flags, modSeq: message.modSeq, internalDate: message.internalDate,
                    size: message.size)
                if needsContent {
                    guard let found = loaded[index] else {
                        missing = true
                        continue
                    }
                    fetched.content = found.content
                    fetched.structure = found.structure
                } else if message.expunged {
                    missing = true
                    continue
                }
                do {
                    try FetchResponse.write(fetched, attributes: attributes, includeUID: uid, out: &out)
                } catch {
                    out.raw("\(tag) NO [UNKNOWN-CTE] Cannot decode the part's content transfer encoding\r\n")
                    return
                }
                if out.bytes.count >= Self.outputChunk { await flush() }
            }
        }
        // RFC 9051 §7.5.1: no EXPUNGE during FETCH by sequence number; UID FETCH may.
        await poll(allowExpunge: uid)
        out.raw(missing ? "\(tag) OK [EXPUNGEISSUED] Some messages were expunged\r\n" : "\(tag) OK FETCH completed\r\n")
    }

    func store(_ tag: String, _ set: SequenceSet, _ flags: IMAPCommand.StoreFlags, unchangedSince: UInt64?, uid: Bool) async {
        guard let indices = resolve(tag, set, uid: uid), let selected = selection else { return }
        guard !selected.readOnly else {
            out.raw("\(tag) NO [READ-ONLY] Mailbox is read-only\r\n")
            return
        }
        if unchangedSince != nil { condstore = true }
        // \Recent cannot be stored (RFC 3501 §2.3.2); other names are keywords, bounded.
        var canonical: [String] = []
        for flag in flags.flags where flag.lowercased() != "\\recent" {
            if flag.hasPrefix("\\") {
                guard Self.systemFlags.contains(flag.lowercased()) else {
                    out.raw("\(tag) BAD Unknown system flag \(flag)\r\n")
                    return
                }
                canonical.append("\\" + flag.dropFirst().prefix(1).uppercased() + flag.dropFirst(2).lowercased())
            } else {
                guard flag.utf8.count <= 100 else {
                    out.raw("\(tag) BAD Keyword too long\r\n")
                    return
                }
                canonical.append(flag)
            }
        }
        let operation: FlagChange.Operation = switch flags.operation {
        case .add: .add
        case .remove: .remove
        case .replace: .replace
        }
        let uids = indices.filter { !selected.view.messages[$0].expunged }.map { Int(selected.view.messages[$0].uid) }
        guard
            let result = try? await mailboxes.storeFlags(
                mailboxID: selected.mailbox.id, uids: uids, change: FlagChange(operation, canonical), unchangedSince: unchangedSince.map { Int($0) })
        else { return storeFailed(tag) }
        for message in result.updated {
            guard let index = selection!.view.index(ofUID: UInt32(message.uid)) else { continue }
            selection!.view.setFlags(at: index, message.flags, modSeq: UInt64(message.modSeq))
            // RFC 7162 §3.1.3: with CONDSTORE, even .SILENT answers the new MODSEQ.
            guard !flags.silent || unchangedSince != nil else { continue }
            out.raw("* \(index + 1) FETCH (")
            if uid { out.raw("UID \(message.uid) ") }
            out.raw("FLAGS (\(message.flags.joined(separator: " ")))")
            if condstore { out.raw(" MODSEQ (\(message.modSeq))") }
            out.raw(")\r\n")
        }
        await poll(allowExpunge: uid)
        if result.modified.isEmpty {
            ok(tag, "STORE completed")
        } else {
            let numbers = uid ? result.modified.map { UInt32($0) } : result.modified.compactMap { selection!.view.index(ofUID: UInt32($0)).map { UInt32($0 + 1) } }
            out.raw("\(tag) OK [MODIFIED \(SequenceSet.compact(numbers))] Conditional STORE failed for some messages\r\n")
        }
    }

    func search(_ tag: String, _ command: SearchCommand, uid: Bool) async {
        guard let selected = selection else { return }
        if let charset = command.charset, !["UTF-8", "US-ASCII"].contains(charset) {
            out.raw("\(tag) NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n")
            return
        }
        if command.key.mentionsModSeq { condstore = true }
        let view = selected.view
        let evaluator = SearchEvaluator(largestSequence: UInt32(view.count), largestUID: view.messages.last?.uid ?? 0, savedUIDs: savedResult)
        var matched: [(index: Int, uid: UInt32, modSeq: UInt64)] = []
        let live = view.messages.indices.filter { !view.messages[$0].expunged }
        for start in stride(from: 0, to: live.count, by: Self.loadBatch) {
            let batch = live[start..<min(start + Self.loadBatch, live.count)]
            var loaded: [Int: (content: [UInt8]?, structure: MIMEPart)] = [:]
            if command.key.needsContent {
                // Header keys can use the trees parsed before; only the rest are read.
                var unread: [Int] = []
                for index in batch {
                    if !command.key.needsBody, let key = structureKey(view.messages[index].uid), let tree = structures.cached(key) {
                        loaded[index] = (nil, tree)
                    } else {
                        unread.append(index)
                    }
                }
                for (index, found) in await load(unread[...]) { loaded[index] = (found.content, found.structure) }
            }
            for index in batch {
                let message = view.messages[index]
                var candidate = SearchEvaluator.Message(
                    sequence: index + 1, uid: message.uid, flags: message.flags, modSeq: message.modSeq, internalDate: message.internalDate,
                    size: message.size, recent: message.uid > view.recentAbove)
                if let found = loaded[index] {
                    candidate.content = found.content
                    candidate.structure = found.structure
                }
                if evaluator.matches(command.key, candidate) { matched.append((index, message.uid, message.modSeq)) }
            }
        }
        let numbers = matched.map { uid ? $0.uid : UInt32($0.index + 1) }
        let highest = matched.map(\.modSeq).max()
        if let options = command.returnOptions ?? (rev2 ? [.all] : nil) {
            if options.contains(.save) { savedResult = Set(matched.map(\.uid)) }
            out.raw("* ESEARCH (TAG \"\(tag)\")")
            if uid { out.raw(" UID") }
            if !numbers.isEmpty {
                if options.contains(.min) { out.raw(" MIN \(numbers.min()!)") }
                if options.contains(.max) { out.raw(" MAX \(numbers.max()!)") }
                if options.contains(.all) { out.raw(" ALL \(SequenceSet.compact(numbers))") }
            }
            if options.contains(.count) { out.raw(" COUNT \(numbers.count)") }
            if command.key.mentionsModSeq, let highest { out.raw(" MODSEQ \(highest)") }
            out.raw("\r\n")
        } else {
            out.raw("* SEARCH")
            for number in numbers { out.raw(" \(number)") }
            if command.key.mentionsModSeq, let highest { out.raw(" (MODSEQ \(highest))") }
            out.raw("\r\n")
        }
        await poll(allowExpunge: uid)
        ok(tag, "SEARCH completed")
    }

    func copy(_ tag: String, _ set: SequenceSet, _ nameBytes: [UInt8], uid: Bool, move: Bool) async {
        guard let indices = resolve(tag, set, uid: uid), let selected = selection else { return }
        if move && selected.readOnly {
            out.raw("\(tag) NO [READ-ONLY] Mailbox is read-only\r\n")
            return
        }
        guard let target = await folder(nameBytes) else {
            out.raw("\(tag) NO [TRYCREATE] No such mailbox\r\n")
            return
        }
        let uids = indices.filter { !selected.view.messages[$0].expunged }.map { Int(selected.view.messages[$0].uid) }
        let pairs: [(source: Int, copy: Int)]
        do {
            pairs = try await mailboxes.copy(from: selected.mailbox.id, uids: uids, to: target.id, move: move && target.id != selected.mailbox.id)
        } catch StoreError.limitReached {
            out.raw("\(tag) NO [OVERQUOTA] Over your mailbox quota\r\n")
            return
        } catch {
            return storeFailed(tag)
        }
        let code =
            pairs.isEmpty
            ? "" : "[COPYUID \(target.uidValidity) \(SequenceSet.compact(pairs.map { UInt32($0.source) })) \(SequenceSet.compact(pairs.map { UInt32($0.copy) }))] "
        if move, target.id != selected.mailbox.id {
            // RFC 6851 §4.3: COPYUID in an untagged OK, then the expunges, then the tagged OK.
            if !code.isEmpty { out.raw("* OK \(code)Moved\r\n") }
            announceRemoval(Set(pairs.map { UInt32($0.source) }))
            await poll(allowExpunge: true)
            ok(tag, "MOVE completed")
        } else {
            await poll(allowExpunge: uid)
            out.raw("\(tag) OK \(code)\(move ? "MOVE" : "COPY") completed\r\n")
        }
    }

    /// Tells the client about messages this session removed (EXPUNGE, or VANISHED under QRESYNC).
    func announceRemoval(_ uids: Set<UInt32>) {
        guard !uids.isEmpty else { return }
        let (numbers, removed) = selection!.view.remove(uids: uids)
        if qresync {
            out.raw("* VANISHED \(SequenceSet.compact(removed))\r\n")
        } else {
            for number in numbers { out.raw("* \(number) EXPUNGE\r\n") }
        }
    }

    func expunge(_ tag: String, only set: SequenceSet?) async {
        guard let selected = selection else { return }
        guard !selected.readOnly else {
            out.raw("\(tag) NO [READ-ONLY] Mailbox is read-only\r\n")
            return
        }
        var candidates = selected.view.messages.filter { $0.flags.contains("\\Deleted") && !$0.expunged }
        if let set, let indices = resolve(tag, set, uid: true) {
            let named = Set(indices.map { selected.view.messages[$0].uid })
            candidates = candidates.filter { named.contains($0.uid) }
        } else if set != nil {
            return
        }
        let uids = candidates.map { Int($0.uid) }
        guard (try? await mailboxes.expunge(mailboxID: selected.mailbox.id, uids: uids)) != nil else { return storeFailed(tag) }
        announceRemoval(Set(uids.map { UInt32($0) }))
        await poll(allowExpunge: true, force: true)
        if condstore, let highest = selection?.view.highestModSeq {
            out.raw("\(tag) OK [HIGHESTMODSEQ \(highest)] EXPUNGE completed\r\n")
        } else {
            ok(tag, "EXPUNGE completed")
        }
    }

    /// CLOSE (expunges silently when read-write) and UNSELECT (RFC 3691).
    func close(_ tag: String, expunge: Bool) async {
        if expunge, let selected = selection, !selected.readOnly {
            let uids = selected.view.messages.filter { $0.flags.contains("\\Deleted") }.map { Int($0.uid) }
            _ = try? await mailboxes.expunge(mailboxID: selected.mailbox.id, uids: uids)
        }
        retained = selection
        selection = nil
        state = .authenticated
        ok(tag, expunge ? "CLOSE completed" : "UNSELECT completed")
    }

    func append(_ tag: String, _ nameBytes: [UInt8], _ flags: [String], _ date: Int?, _ message: [UInt8]) async {
        guard let target = await folder(nameBytes) else {
            out.raw("\(tag) NO [TRYCREATE] No such mailbox\r\n")
            return
        }
        guard message.count <= settings.maximumMessageSize else {
            out.raw("\(tag) NO [TOOBIG] Message larger than \(settings.maximumMessageSize) octets\r\n")
            return
        }
        guard !message.isEmpty else {
            out.raw("\(tag) NO Empty message\r\n")
            return
        }
        let kept = flags.filter { $0.lowercased() != "\\recent" && (!$0.hasPrefix("\\") || Self.systemFlags.contains($0.lowercased())) }
        let stored: MailboxMessage
        do {
            stored = try await mailboxes.append(mailboxID: target.id, content: message, flags: kept, internalDate: date ?? MessageDate.nowUnixSeconds())
        } catch StoreError.limitReached {
            out.raw("\(tag) NO [OVERQUOTA] Over your mailbox quota\r\n")
            return
        } catch {
            return storeFailed(tag)
        }
        if selection?.mailbox.id == target.id { await poll(allowExpunge: true, force: true) }
        out.raw("\(tag) OK [APPENDUID \(target.uidValidity) \(stored.uid)] APPEND completed\r\n")
    }

    /// IDLE (RFC 2177, RFC 9051 §6.3.13): changes are announced as they happen until DONE.
    func idle(_ tag: String, _ events: inout AsyncStream<IMAPSessionInput>.Iterator) async {
        out.raw("+ idling\r\n")
        await poll(allowExpunge: true, force: true)
        await flush()
        let started = ContinuousClock.now
        var keptAlive = started
        while true {
            guard let event = await events.next() else {
                state = .logout
                return
            }
            switch event {
            case .command(let line):
                transport.commandFinished()
                var text = line
                while let last = text.last, last == 0x0D || last == 0x0A || last == 0x20 { text.removeLast() }
                if String(decoding: text, as: UTF8.self).uppercased() == "DONE" {
                    ok(tag, "IDLE terminated")
                } else {
                    out.raw("\(tag) BAD Expected DONE\r\n")
                }
                lastCommand = .now
                return
            case .mailboxChanged(let mailboxID, let modSeq):
                noteChange(mailboxID: mailboxID, modSeq: modSeq)
                await poll(allowExpunge: true)
                await flush()
            case .tick:
                let now = ContinuousClock.now
                if now - started > settings.autologout {
                    out.raw("* BYE Autologout; idle for too long\r\n")
                    await flush()
                    state = .logout
                    return
                }
                await poll(allowExpunge: true)
                if now - keptAlive >= settings.idleKeepalive {
                    out.raw("* OK Still here\r\n")
                    keptAlive = now
                }
                await flush()
            case .lineTooLong, .literalTooLarge:
                transport.commandFinished()
                out.raw("\(tag) BAD Expected DONE\r\n")
                return
            case .closed:
                state = .logout
                return
            }
        }
    }
}
