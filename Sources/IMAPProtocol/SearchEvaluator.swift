import MailCore

/// Decides whether one message matches a SEARCH key (RFC 9051 §6.4.4). Strings match as
/// case-insensitive substrings (ASCII case folding; UTF-8 compared as bytes). Header keys look
/// at the field values as sent and, for encoded words, as decoded too; BODY and TEXT look at
/// text parts with their transfer encoding undone.
public struct SearchEvaluator {
    public typealias Message = FetchedMessage

    /// The largest sequence number and UID of the mailbox (for `*`).
    public var largestSequence: UInt32
    public var largestUID: UInt32
    /// The saved result (`$`, RFC 5182) as UIDs.
    public var savedUIDs: Set<UInt32>

    public init(largestSequence: UInt32, largestUID: UInt32, savedUIDs: Set<UInt32> = []) {
        self.largestSequence = largestSequence
        self.largestUID = largestUID
        self.savedUIDs = savedUIDs
    }

    public func matches(_ key: SearchKey, _ message: Message) -> Bool {
        // Flags and keywords compare case-insensitively (RFC 9051 §2.3.2).
        func has(_ flag: String) -> Bool { message.flags.contains { ASCIICase.equal($0, flag) } }
        switch key {
        case .all: return true
        case .answered: return has("\\Answered")
        case .deleted: return has("\\Deleted")
        case .draft: return has("\\Draft")
        case .flagged: return has("\\Flagged")
        case .seen: return has("\\Seen")
        case .unanswered: return !has("\\Answered")
        case .undeleted: return !has("\\Deleted")
        case .undraft: return !has("\\Draft")
        case .unflagged: return !has("\\Flagged")
        case .unseen: return !has("\\Seen")
        case .recent: return message.recent
        case .new: return message.recent && !has("\\Seen")
        case .old: return !message.recent
        case .keyword(let keyword): return has(keyword)
        case .unkeyword(let keyword): return !has(keyword)
        case .larger(let size): return message.size > Int(size)
        case .smaller(let size): return message.size < Int(size)
        case .before(let day): return Self.day(message.internalDate) < day
        case .on(let day): return Self.day(message.internalDate) == day
        case .since(let day): return Self.day(message.internalDate) >= day
        case .sentBefore(let day): return sentDay(message).map { $0 < day } ?? false
        case .sentOn(let day): return sentDay(message).map { $0 == day } ?? false
        case .sentSince(let day): return sentDay(message).map { $0 >= day } ?? false
        case .modSeq(let value): return message.modSeq >= value
        case .sequence(let set):
            if set.isSavedResult { return savedUIDs.contains(message.uid) }
            return set.contains(UInt32(message.sequence), largest: largestSequence)
        case .uid(let set):
            if set.isSavedResult { return savedUIDs.contains(message.uid) }
            return set.contains(message.uid, largest: largestUID)
        case .not(let inner): return !matches(inner, message)
        case .or(let a, let b): return matches(a, message) || matches(b, message)
        case .and(let keys): return keys.allSatisfy { matches($0, message) }
        case .from(let text): return headerContains("From", text, message)
        case .to(let text): return headerContains("To", text, message)
        case .cc(let text): return headerContains("Cc", text, message)
        case .bcc(let text): return headerContains("Bcc", text, message)
        case .subject(let text): return headerContains("Subject", text, message)
        case .header(let name, let text):
            // RFC 9051: an empty string matches every message that has the field.
            guard let structure = message.structure else { return false }
            return structure.header.fields.contains { ASCIICase.equal($0.name, name) && (text.isEmpty || Self.fieldMatches($0.value, text)) }
        case .body(let text): return bodyContains(text, message)
        case .text(let text):
            guard let content = message.content, let structure = message.structure else { return false }
            return Self.contains(content[structure.headerRange], text) || bodyContains(text, message)
        }
    }

    static func day(_ seconds: Int) -> Int { seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400 }

    func sentDay(_ message: Message) -> Int? {
        guard let date = message.structure?.header.text("Date"), let seconds = MessageDate.parse(date) else { return nil }
        return Self.day(seconds)
    }

    func headerContains(_ name: String, _ text: [UInt8], _ message: Message) -> Bool {
        guard let structure = message.structure else { return false }
        return structure.header.fields.contains { ASCIICase.equal($0.name, name) && Self.fieldMatches($0.value, text) }
    }

    static let encodedWordStart: [UInt8] = Array("=?".utf8)

    static func fieldMatches(_ value: [UInt8], _ text: [UInt8]) -> Bool {
        if contains(value[...], text) { return true }
        // Only a value with an encoded word ("=?") can match once decoded.
        guard contains(value[...], Self.encodedWordStart) else { return false }
        return contains(Array(EncodedWords.decode(String(decoding: value, as: UTF8.self)).utf8)[...], text)
    }

    func bodyContains(_ text: [UInt8], _ message: Message) -> Bool {
        guard let content = message.content, let structure = message.structure else { return false }
        var found = false
        Self.visitText(structure) { part in
            guard !found else { return }
            let encoding = part.header.text("Content-Transfer-Encoding") ?? ""
            let decoded = TransferDecoding.decode(content[part.bodyRange], encoding: encoding) ?? Array(content[part.bodyRange])
            found = Self.contains(decoded[...], text)
        }
        return found
    }

    /// Calls `body` with each leaf part whose body is text (text/*, or a part without a type).
    static func visitText(_ part: MIMEPart, _ body: (MIMEPart) -> Void) {
        switch part.kind {
        case .multipart, .message: for child in part.children { visitText(child, body) }
        case .single: if part.type == "text" { body(part) }
        }
    }

    /// Case-insensitive (ASCII) substring search; linear in practice (first-byte scan).
    static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        let lowered = needle.map(lower)
        let first = lowered[0]
        var i = haystack.startIndex
        let last = haystack.endIndex - lowered.count
        while i <= last {
            if lower(haystack[i]) == first {
                var j = 1
                while j < lowered.count, lower(haystack[i + j]) == lowered[j] { j += 1 }
                if j == lowered.count { return true }
            }
            i += 1
        }
        return false
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 { ASCIICase.lower(byte) }
}
