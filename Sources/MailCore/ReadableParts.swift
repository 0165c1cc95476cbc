import Foundation

/// What a person reads of a message: its first HTML part and its first plain-text part, with
/// the transfer encoding undone and the charset applied (UTF-8 and US-ASCII as they are;
/// anything else as ISO-8859-1, which shows every byte). Attachments and attached messages are
/// not looked into. Pure, and bounded by `MIMEPart`'s own limits.
public struct ReadableParts: Equatable, Sendable {
    public var html: String?
    public var text: String?

    public init(message bytes: [UInt8]) {
        visit(MIMEPart(message: bytes), in: bytes)
    }

    private mutating func visit(_ part: MIMEPart, in bytes: [UInt8]) {
        switch part.kind {
        case .multipart:
            for child in part.children { visit(child, in: bytes) }
        case .message:
            return
        case .single:
            if let disposition = part.header.text("Content-Disposition"), disposition.lowercased().hasPrefix("attachment") { return }
            guard part.type.lowercased() == "text" else { return }
            let subtype = part.subtype.lowercased()
            guard (subtype == "html" && html == nil) || (subtype == "plain" && text == nil) else { return }
            let body = bytes[part.bodyRange.clamped(to: 0..<bytes.count)]
            let encoding = part.header.text("Content-Transfer-Encoding")?.trimmingCharacters(in: .whitespaces) ?? "7bit"
            let decoded = TransferDecoding.decode(body, encoding: encoding) ?? Array(body)
            let charset = part.contentType.parameter("charset").map { String(decoding: $0, as: UTF8.self).lowercased() } ?? "us-ascii"
            let string = ["utf-8", "utf8", "us-ascii", "ascii"].contains(charset)
                ? String(decoding: decoded, as: UTF8.self) : String(decoded.map { Character(Unicode.Scalar($0)) })
            if subtype == "html" { html = string } else { text = string }
        }
    }
}
