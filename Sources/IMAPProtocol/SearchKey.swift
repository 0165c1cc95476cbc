/// A SEARCH criterion (RFC 9051 §6.4.4; MODSEQ of RFC 7162 §3.1.5). A list of keys means all
/// of them (AND); `or` and `not` combine. Dates are days since 1970-01-01 (the server's date
/// of a message, RFC 9051 says, disregarding time and time zone).
public indirect enum SearchKey: Hashable, Sendable {
    case all
    case answered, deleted, draft, flagged, seen
    case unanswered, undeleted, undraft, unflagged, unseen
    /// rev1: \Recent (always false for other sessions: Tern keeps no \Recent), NEW, OLD.
    case recent, new, old
    case keyword(String)
    case unkeyword(String)
    case bcc([UInt8]), cc([UInt8]), from([UInt8]), to([UInt8]), subject([UInt8]), body([UInt8]), text([UInt8])
    case header(name: String, value: [UInt8])
    /// INTERNALDATE day comparisons.
    case before(Int), on(Int), since(Int)
    /// Date: header day comparisons.
    case sentBefore(Int), sentOn(Int), sentSince(Int)
    case larger(UInt32), smaller(UInt32)
    case sequence(SequenceSet)
    case uid(SequenceSet)
    case modSeq(UInt64)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    case and([SearchKey])

    /// Whether evaluating the key needs the message's bytes.
    public var needsContent: Bool {
        switch self {
        case .bcc, .cc, .from, .to, .subject, .body, .text, .header, .sentBefore, .sentOn, .sentSince: return true
        case .not(let key): return key.needsContent
        case .or(let a, let b): return a.needsContent || b.needsContent
        case .and(let keys): return keys.contains(where: \.needsContent)
        default: return false
        }
    }

    /// Whether evaluating the key needs a message's body (BODY, TEXT), not only its header.
    public var needsBody: Bool {
        switch self {
        case .body, .text: return true
        case .not(let key): return key.needsBody
        case .or(let a, let b): return a.needsBody || b.needsBody
        case .and(let keys): return keys.contains(where: \.needsBody)
        default: return false
        }
    }

    /// Whether a MODSEQ criterion is inside (the answer then carries `(MODSEQ n)`).
    public var mentionsModSeq: Bool {
        switch self {
        case .modSeq: return true
        case .not(let key): return key.mentionsModSeq
        case .or(let a, let b): return a.mentionsModSeq || b.mentionsModSeq
        case .and(let keys): return keys.contains(where: \.mentionsModSeq)
        default: return false
        }
    }
}

/// A whole SEARCH command: the key, the charset, and ESEARCH return options (RFC 4731, RFC 9051
/// §6.4.4: MIN, MAX, ALL, COUNT, SAVE). `returnOptions` nil means the rev1 `* SEARCH` answer.
public struct SearchCommand: Hashable, Sendable {
    public enum ReturnOption: String, Hashable, Sendable {
        case min = "MIN"
        case max = "MAX"
        case all = "ALL"
        case count = "COUNT"
        case save = "SAVE"
    }

    public var key: SearchKey
    public var charset: String?
    public var returnOptions: [ReturnOption]?

    public init(key: SearchKey, charset: String? = nil, returnOptions: [ReturnOption]? = nil) {
        self.key = key
        self.charset = charset
        self.returnOptions = returnOptions
    }
}
