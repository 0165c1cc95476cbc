import MailCore

/// One message as FETCH and SEARCH see it: its row, and its bytes and MIME tree when an item
/// or a key needs them.
public struct FetchedMessage: Sendable {
    public var sequence: Int
    public var uid: UInt32
    public var flags: [String]
    public var modSeq: UInt64
    public var internalDate: Int
    public var size: Int
    /// rev1 `\Recent` (SEARCH RECENT, NEW, OLD).
    public var recent: Bool
    public var content: [UInt8]?
    public var structure: MIMEPart?

    public init(
        sequence: Int, uid: UInt32, flags: [String], modSeq: UInt64, internalDate: Int, size: Int, recent: Bool = false, content: [UInt8]? = nil,
        structure: MIMEPart? = nil
    ) {
        self.sequence = sequence
        self.uid = uid
        self.flags = flags
        self.modSeq = modSeq
        self.internalDate = internalDate
        self.size = size
        self.recent = recent
        self.content = content
        self.structure = structure
    }
}

/// Writes `* n FETCH (…)` (RFC 9051 §7.5.2) for one message.
public enum FetchResponse {
    public enum Failure: Error, Equatable, Sendable {
        /// BINARY of a part whose Content-Transfer-Encoding is unknown (RFC 3516 §4.1).
        case unknownTransferEncoding
    }

    public static func write(
        _ message: FetchedMessage, attributes: [FetchAttribute], includeUID: Bool, out: inout IMAPResponseBuffer
    ) throws(Failure) {
        out.raw("* \(message.sequence) FETCH (")
        var first = true
        func separator(_ out: inout IMAPResponseBuffer) {
            if !first { out.space() }
            first = false
        }
        // RFC 9051 §6.4.8: UID FETCH always answers the UID.
        if includeUID && !attributes.contains(.uid) {
            separator(&out)
            out.raw("UID \(message.uid)")
        }
        let content = message.content ?? []
        let structure = message.structure
        for attribute in attributes {
            separator(&out)
            switch attribute {
            case .uid: out.raw("UID \(message.uid)")
            case .flags: out.raw("FLAGS (\(message.flags.joined(separator: " ")))")
            case .modSeq: out.raw("MODSEQ (\(message.modSeq))")
            case .internalDate: out.raw("INTERNALDATE \"\(IMAPDate.dateTime(message.internalDate))\"")
            case .rfc822Size: out.raw("RFC822.SIZE \(message.size)")
            case .envelope:
                out.raw("ENVELOPE ")
                MessageStructure.envelope(structure?.header ?? MIMEHeader(fields: []), into: &out)
            case .body, .bodyStructure:
                out.raw(attribute == .body ? "BODY " : "BODYSTRUCTURE ")
                if let structure { MessageStructure.body(structure, extensible: attribute == .bodyStructure, into: &out) }
            case .rfc822:
                out.raw("RFC822 ")
                out.literal(content)
            case .rfc822Header:
                out.raw("RFC822.HEADER ")
                out.literal(structure.map { content[$0.headerRange] } ?? [])
            case .rfc822Text:
                out.raw("RFC822.TEXT ")
                out.literal(structure.map { content[$0.bodyRange] } ?? [])
            case .bodySection(let section, let partial, _):
                out.raw("BODY[\(section.description)]")
                let data = structure.flatMap { Self.section(section, of: content, structure: $0) }
                Self.partial(data, partial, into: &out)
            case .binary(let part, let partial, _):
                out.raw("BINARY[\(part.map(String.init).joined(separator: "."))]")
                let data = try structure.flatMap { (s: MIMEPart) throws(Failure) in try Self.binary(part, of: content, structure: s) }
                Self.partial(data.map { $0[...] }, partial, binary: true, into: &out)
            case .binarySize(let part):
                out.raw("BINARY.SIZE[\(part.map(String.init).joined(separator: "."))] ")
                let data = try structure.flatMap { (s: MIMEPart) throws(Failure) in try Self.binary(part, of: content, structure: s) }
                out.number(data?.count ?? 0)
            }
        }
        out.raw(")\r\n")
    }

    /// `<origin>` and the slice of the data it names (RFC 9051 §6.4.5: an origin past the end
    /// gives an empty string).
    static func partial(_ data: ArraySlice<UInt8>?, _ partial: FetchAttribute.Partial?, binary: Bool = false, into out: inout IMAPResponseBuffer) {
        guard let partial else {
            out.space()
            if let data { out.literal(data, binary: binary) } else { out.raw("NIL") }
            return
        }
        out.raw("<\(partial.origin)> ")
        guard let data else { return out.raw("NIL") }
        let start = min(data.startIndex + Int(partial.origin), data.endIndex)
        let end = min(start + Int(partial.count), data.endIndex)
        out.literal(data[start..<end], binary: binary)
    }

    /// The bytes a section names, or nil when the part does not exist.
    public static func section(_ section: FetchAttribute.Section, of bytes: [UInt8], structure: MIMEPart) -> ArraySlice<UInt8>? {
        guard let part = structure.part(at: section.part) else { return nil }
        // HEADER, HEADER.FIELDS and TEXT of a part are those of the message/rfc822 it holds;
        // of the top level, those of the message itself.
        let message: MIMEPart? = section.part.isEmpty ? structure : (part.kind == .message ? part.children.first : nil)
        switch section.text {
        case .none:
            return section.part.isEmpty ? bytes[...] : bytes[part.bodyRange]
        case .mime:
            return bytes[part.headerRange]
        case .header:
            guard let message else { return nil }
            return bytes[message.headerRange]
        case .text:
            guard let message else { return nil }
            return bytes[message.bodyRange]
        case .headerFields(let names), .headerFieldsNot(let names):
            guard let message else { return nil }
            let not: Bool
            if case .headerFieldsNot = section.text { not = true } else { not = false }
            return headerLines(bytes, message.headerRange, names: Set(names.map { $0.lowercased() }), not: not)[...]
        }
    }

    /// The header's lines (continuations included, as sent) of the fields named (or, with
    /// `not`, not named) in `names`, followed by the empty line (RFC 9051 §6.4.5).
    static func headerLines(_ bytes: [UInt8], _ range: Range<Int>, names: Set<String>, not: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var position = range.lowerBound
        var keeping = false
        while position < range.upperBound {
            var lineEnd = position
            while lineEnd < range.upperBound, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = min(lineEnd + 1, range.upperBound)
            let contentEnd = lineEnd > position && bytes[lineEnd - 1] == 0x0D ? lineEnd - 1 : lineEnd
            if contentEnd == position { break }
            let first = bytes[position]
            if first != 0x20 && first != 0x09 {
                if let colon = bytes[position..<contentEnd].firstIndex(of: UInt8(ascii: ":")) {
                    let name = String(decoding: bytes[position..<colon], as: UTF8.self).trimmingSpaces().lowercased()
                    keeping = names.contains(name) != not
                } else {
                    keeping = false
                }
            }
            if keeping {
                out += bytes[position..<contentEnd]
                out += [0x0D, 0x0A]
            }
            position = next
        }
        out += [0x0D, 0x0A]
        return out
    }

    /// BINARY[part]: the part's content with its transfer encoding undone (RFC 3516 §4.2).
    /// BINARY[] (no part) is the whole message, which has no encoding of its own.
    public static func binary(_ part: [Int], of bytes: [UInt8], structure: MIMEPart) throws(Failure) -> [UInt8]? {
        guard !part.isEmpty else { return bytes }
        guard let found = structure.part(at: part) else { return nil }
        guard found.kind == .single else { return Array(bytes[found.bodyRange]) }
        let encoding = found.header.text("Content-Transfer-Encoding") ?? ""
        guard let decoded = TransferDecoding.decode(bytes[found.bodyRange], encoding: encoding) else { throw .unknownTransferEncoding }
        return decoded
    }
}
