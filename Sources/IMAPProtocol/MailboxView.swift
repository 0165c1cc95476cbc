/// What one session knows of its selected mailbox (RFC 9051 §2.3.1): the messages in
/// sequence-number order with their UIDs, flags and mod-sequences, and the changes other
/// sessions made that it has not yet announced. Pure: the store's changes come in through
/// `apply`, the untagged responses that tell the client go out through `announce`.
///
/// Sequence numbers move only when the client is told (RFC 9051 §7.5.1): a message another
/// session expunged keeps its number, marked, until an `EXPUNGE` (or `VANISHED`) may be sent,
/// which is never during a FETCH, STORE or SEARCH by sequence number.
public struct MailboxView: Sendable {
    public struct Message: Equatable, Sendable {
        public var uid: UInt32
        public var flags: [String]
        public var modSeq: UInt64
        /// RFC822.SIZE and INTERNALDATE (Unix seconds): fixed for a message's life, kept here so
        /// FETCH and SEARCH need no store read for them.
        public var size: Int
        public var internalDate: Int
        /// Gone from the store, not yet announced.
        public var expunged: Bool

        public init(uid: UInt32, flags: [String], modSeq: UInt64, size: Int = 0, internalDate: Int = 0, expunged: Bool = false) {
            self.uid = uid
            self.flags = flags
            self.modSeq = modSeq
            self.size = size
            self.internalDate = internalDate
            self.expunged = expunged
        }
    }

    /// A change the store reports: a message that is new or whose flags changed.
    public struct Change: Equatable, Sendable {
        public var uid: UInt32
        public var flags: [String]
        public var modSeq: UInt64
        public var size: Int
        public var internalDate: Int

        public init(uid: UInt32, flags: [String], modSeq: UInt64, size: Int = 0, internalDate: Int = 0) {
            self.uid = uid
            self.flags = flags
            self.modSeq = modSeq
            self.size = size
            self.internalDate = internalDate
        }
    }

    public private(set) var messages: [Message]
    public let uidValidity: UInt32
    public private(set) var highestModSeq: UInt64
    /// UIDs above this are recent to this session (rev1 `\Recent`).
    public private(set) var recentAbove: UInt32
    /// The EXISTS count the client was last told.
    var announcedCount: Int
    /// UIDs whose flags changed and are not yet announced.
    var changedFlags: Set<UInt32> = []

    public init(uidValidity: UInt32, messages: [Message], highestModSeq: UInt64, recentAbove: UInt32 = .max) {
        self.uidValidity = uidValidity
        self.messages = messages
        self.highestModSeq = highestModSeq
        self.recentAbove = recentAbove
        self.announcedCount = messages.count
    }

    public var count: Int { messages.count }
    public var recentCount: Int { messages.count { $0.uid > recentAbove } }

    /// The index of `uid`, by binary search (messages are in UID order).
    public func index(ofUID uid: UInt32) -> Int? {
        var low = 0
        var high = messages.count
        while low < high {
            let middle = (low + high) / 2
            if messages[middle].uid < uid { low = middle + 1 } else { high = middle }
        }
        return low < messages.count && messages[low].uid == uid ? low : nil
    }

    /// Indices named by a sequence set: sequence numbers (nil when one is beyond the mailbox,
    /// which is a BAD, RFC 9051 §9 `seq-number`) or UIDs (those that do not exist are skipped).
    public func indices(_ set: SequenceSet, uid: Bool) -> [Int]? {
        if uid {
            guard let largest = messages.last?.uid else { return [] }
            var out: [Int] = []
            for range in set.ranges(largest: largest) {
                var low = 0
                var high = messages.count
                while low < high {
                    let middle = (low + high) / 2
                    if messages[middle].uid < range.lowerBound { low = middle + 1 } else { high = middle }
                }
                while low < messages.count, messages[low].uid <= range.upperBound {
                    out.append(low)
                    low += 1
                }
            }
            return out
        }
        guard !messages.isEmpty else { return nil }
        var out: [Int] = []
        for range in set.ranges(largest: UInt32(messages.count)) {
            guard range.upperBound <= messages.count else { return nil }
            out.append(contentsOf: (Int(range.lowerBound) - 1)...(Int(range.upperBound) - 1))
        }
        return out
    }

    /// Records what the store reports since `highestModSeq`: new messages, new flags, and the
    /// UIDs expunged. Nothing is announced yet.
    public mutating func apply(changes: [Change], expunged: [UInt32], highestModSeq: UInt64) {
        for uid in expunged {
            if let index = index(ofUID: uid) { messages[index].expunged = true }
        }
        for change in changes.sorted(by: { $0.uid < $1.uid }) {
            if let index = index(ofUID: change.uid) {
                guard !messages[index].expunged else { continue }
                if messages[index].flags != change.flags { changedFlags.insert(change.uid) }
                messages[index].flags = change.flags
                messages[index].modSeq = max(messages[index].modSeq, change.modSeq)
            } else if change.uid > (messages.last?.uid ?? 0) {
                messages.append(Message(uid: change.uid, flags: change.flags, modSeq: change.modSeq, size: change.size, internalDate: change.internalDate))
            }
        }
        self.highestModSeq = max(self.highestModSeq, highestModSeq)
    }

    /// A new view of the same folder (SELECT again): this view's messages with the store's
    /// changes since its HIGHESTMODSEQ applied and every expunged message gone, nothing left to
    /// announce. Saves reading the whole folder when a client selects the folder it had.
    public func reopened(changes: [Change], expunged: [UInt32], highestModSeq: UInt64, recentAbove: UInt32 = .max) -> MailboxView {
        var updated = self
        updated.apply(changes: changes, expunged: expunged, highestModSeq: highestModSeq)
        return MailboxView(
            uidValidity: uidValidity, messages: updated.messages.filter { !$0.expunged }, highestModSeq: updated.highestModSeq,
            recentAbove: recentAbove)
    }

    /// Records a flag change this session made and announces itself (STORE's own answer).
    /// HIGHESTMODSEQ moves with it only when nothing can lie between (the change is the very
    /// next MODSEQ): otherwise another session's change in the gap would never be read.
    public mutating func setFlags(at index: Int, _ flags: [String], modSeq: UInt64) {
        messages[index].flags = flags
        messages[index].modSeq = modSeq
        changedFlags.remove(messages[index].uid)
        if modSeq == highestModSeq + 1 { highestModSeq = modSeq }
    }

    /// Removes messages this session expunged itself; answers their sequence numbers (as they
    /// are to be sent, each EXPUNGE renumbering the rest) and UIDs.
    public mutating func remove(uids: Set<UInt32>) -> (sequenceNumbers: [Int], uids: [UInt32]) {
        var numbers: [Int] = []
        var removed: [UInt32] = []
        var index = 0
        var kept: [Message] = []
        var announcedRemoved = 0
        kept.reserveCapacity(messages.count)
        for message in messages {
            index += 1
            if uids.contains(message.uid) {
                // The client counted it in an EXISTS already: its EXPUNGE takes it off again.
                if index <= announcedCount { announcedRemoved += 1 }
                // Each EXPUNGE renumbers what follows: the n-th removal is sent as its
                // original number minus the removals sent before it.
                numbers.append(index - removed.count)
                removed.append(message.uid)
            } else {
                kept.append(message)
            }
        }
        messages = kept
        announcedCount -= announcedRemoved
        return (numbers, removed)
    }

    /// The untagged responses for what changed: EXPUNGE (or VANISHED under QRESYNC) when
    /// allowed, FETCH for new flags, EXISTS (and RECENT for rev1) for new messages.
    public mutating func announce(allowExpunge: Bool, condstore: Bool, qresync: Bool, rev1: Bool, out: inout IMAPResponseBuffer) {
        if allowExpunge, messages.contains(where: \.expunged) {
            let gone = Set(messages.filter(\.expunged).map(\.uid))
            let (numbers, uids) = remove(uids: gone)
            if qresync {
                out.raw("* VANISHED \(SequenceSet.compact(uids))\r\n")
            } else {
                for number in numbers { out.raw("* \(number) EXPUNGE\r\n") }
            }
        }
        if !changedFlags.isEmpty {
            for (offset, message) in messages.enumerated() where changedFlags.contains(message.uid) && !message.expunged {
                out.raw("* \(offset + 1) FETCH (")
                if qresync || condstore { out.raw("UID \(message.uid) ") }
                out.raw("FLAGS (\(message.flags.joined(separator: " ")))")
                if condstore { out.raw(" MODSEQ (\(message.modSeq))") }
                out.raw(")\r\n")
            }
            changedFlags.removeAll()
        }
        // Only growth is announced: removals were told by their EXPUNGEs (RFC 9051 §7.4.1).
        if messages.count > announcedCount {
            out.raw("* \(messages.count) EXISTS\r\n")
            if rev1 { out.raw("* \(recentCount) RECENT\r\n") }
        }
        announcedCount = messages.count
    }

    /// Messages above `uid` are recent to this session from now on (it claimed them).
    public mutating func claimRecent(above uid: UInt32) { recentAbove = min(recentAbove, uid) }
}

extension SequenceSet {
    /// The shortest text for a list of numbers: runs become ranges (`1:3,7`).
    public static func compact(_ numbers: [UInt32]) -> String {
        let sorted = numbers.sorted()
        var pieces: [String] = []
        var index = 0
        while index < sorted.count {
            let start = sorted[index]
            var end = start
            while index + 1 < sorted.count, sorted[index + 1] <= end + 1 {
                index += 1
                end = sorted[index]
            }
            pieces.append(start == end ? "\(start)" : "\(start):\(end)")
            index += 1
        }
        return pieces.joined(separator: ",")
    }
}
