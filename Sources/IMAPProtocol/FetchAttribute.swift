/// One FETCH data item (RFC 9051 §6.4.5; BINARY of RFC 3516; MODSEQ of RFC 7162). The macros
/// ALL, FAST and FULL are expanded by the parser.
public enum FetchAttribute: Hashable, Sendable {
    case envelope
    case flags
    case internalDate
    case rfc822Size
    /// RFC 822, RFC822.HEADER, RFC822.TEXT: rev1 forms (RFC822 and RFC822.TEXT set \Seen).
    case rfc822
    case rfc822Header
    case rfc822Text
    /// BODY (no extension data) and BODYSTRUCTURE (with it).
    case body
    case bodyStructure
    case uid
    case modSeq
    /// BODY[section]<partial> and BODY.PEEK[…].
    case bodySection(Section, partial: Partial?, peek: Bool)
    /// BINARY[part]<partial>, BINARY.PEEK[…] (RFC 3516): the decoded content.
    case binary(part: [Int], partial: Partial?, peek: Bool)
    case binarySize(part: [Int])

    /// `<origin.count>`.
    public struct Partial: Hashable, Sendable {
        public var origin: UInt32
        public var count: UInt32

        public init(origin: UInt32, count: UInt32) {
            self.origin = origin
            self.count = count
        }
    }

    /// A section specification (RFC 9051 §6.4.5): a part path and what of it.
    public struct Section: Hashable, Sendable {
        public enum Text: Hashable, Sendable {
            /// The whole part (or the whole message when the path is empty).
            case none
            case header
            /// Field names upper-cased.
            case headerFields([String])
            case headerFieldsNot([String])
            case text
            case mime
        }

        public var part: [Int]
        public var text: Text

        public init(part: [Int] = [], text: Text = .none) {
            self.part = part
            self.text = text
        }

        /// How the section is written back in the response (`1.HEADER.FIELDS (FROM)`).
        public var description: String {
            var pieces = part.map(String.init)
            switch text {
            case .none: break
            case .header: pieces.append("HEADER")
            case .headerFields(let names): pieces.append("HEADER.FIELDS (\(names.joined(separator: " ")))")
            case .headerFieldsNot(let names): pieces.append("HEADER.FIELDS.NOT (\(names.joined(separator: " ")))")
            case .text: pieces.append("TEXT")
            case .mime: pieces.append("MIME")
            }
            return pieces.joined(separator: ".")
        }
    }

    /// Whether fetching this sets `\Seen` (RFC 9051 §6.4.5: BODY[…] and BINARY[…] without
    /// .PEEK, and RFC822/RFC822.TEXT).
    public var setsSeen: Bool {
        switch self {
        case .rfc822, .rfc822Text: return true
        case .bodySection(_, _, let peek), .binary(_, _, let peek): return !peek
        default: return false
        }
    }

    /// Whether the answer needs the message's bytes (not only its row).
    public var needsContent: Bool {
        switch self {
        case .flags, .internalDate, .rfc822Size, .uid, .modSeq: return false
        default: return true
        }
    }
}
