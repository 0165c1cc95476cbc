import MailCore

/// ENVELOPE and BODYSTRUCTURE (RFC 9051 §7.5.2) from a parsed MIME tree.
public enum MessageStructure {
    /// `(date subject from sender reply-to to cc bcc in-reply-to message-id)`. Sender and
    /// Reply-To default to From when absent or empty; fields are sent as they are in the header.
    public static func envelope(_ header: MIMEHeader, into out: inout IMAPResponseBuffer) {
        out.byte(UInt8(ascii: "("))
        out.nstring(nonEmpty(header.first("Date")))
        out.space()
        out.nstring(nonEmpty(header.first("Subject")))
        let from = addresses(header.first("From"))
        for name in ["From", "Sender", "Reply-To"] {
            out.space()
            let list = name == "From" ? from : addresses(header.first(name))
            addressList(list ?? (name == "From" ? nil : from), into: &out)
        }
        for name in ["To", "Cc", "Bcc"] {
            out.space()
            addressList(addresses(header.first(name)), into: &out)
        }
        out.space()
        out.nstring(nonEmpty(header.first("In-Reply-To")))
        out.space()
        out.nstring(nonEmpty(header.first("Message-ID")))
        out.byte(UInt8(ascii: ")"))
    }

    static func nonEmpty(_ value: [UInt8]?) -> [UInt8]? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    static func addresses(_ value: [UInt8]?) -> [AddressListEntry]? {
        guard let value else { return nil }
        let list = AddressListEntry.parse(value)
        return list.isEmpty ? nil : list
    }

    static func addressList(_ list: [AddressListEntry]?, into out: inout IMAPResponseBuffer) {
        guard let list, !list.isEmpty else { return out.raw("NIL") }
        out.byte(UInt8(ascii: "("))
        for entry in list {
            switch entry {
            case .mailbox(let name, let route, let local, let domain):
                out.byte(UInt8(ascii: "("))
                out.nstring(name)
                out.space()
                out.nstring(route)
                out.space()
                out.nstring(local)
                out.space()
                // A mailbox without a domain still needs a host: NIL would mean a group.
                out.nstring(domain ?? Array("MISSING_DOMAIN".utf8))
                out.byte(UInt8(ascii: ")"))
            case .groupStart(let name):
                out.raw("(NIL NIL ")
                out.string(name)
                out.raw(" NIL)")
            case .groupEnd:
                out.raw("(NIL NIL NIL NIL)")
            }
        }
        out.byte(UInt8(ascii: ")"))
    }

    /// BODYSTRUCTURE (`extensible`) or BODY of `part`, whose offsets point into `message`.
    public static func body(_ part: MIMEPart, extensible: Bool, into out: inout IMAPResponseBuffer) {
        out.byte(UInt8(ascii: "("))
        switch part.kind {
        case .multipart:
            if part.children.isEmpty {
                // RFC 9051 requires at least one body part; an empty multipart shows as an
                // empty text part, as other servers do.
                out.raw("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)")
            }
            for child in part.children { body(child, extensible: extensible, into: &out) }
            out.space()
            out.string(part.subtype)
            if extensible {
                out.space()
                parameters(part.contentType, into: &out)
                extensionTail(part, into: &out)
            }
        case .single, .message:
            out.string(part.type)
            out.space()
            out.string(part.subtype)
            out.space()
            var contentType = part.contentType
            // RFC 2045 §5.2: text without a charset is US-ASCII; say so, as other servers do.
            if part.type == "text", contentType.parameter("charset") == nil {
                contentType.parameters.insert(("charset", Array("us-ascii".utf8)), at: 0)
            }
            parameters(contentType, into: &out)
            out.space()
            out.nstring(nonEmpty(part.header.first("Content-ID")))
            out.space()
            out.nstring(nonEmpty(part.header.first("Content-Description")))
            out.space()
            let encoding = part.header.text("Content-Transfer-Encoding").map { $0.trimmingSpaces().lowercased() }
            out.string(encoding.flatMap { $0.isEmpty ? nil : $0 } ?? "7bit")
            out.space()
            out.number(part.bodyRange.count)
            if part.kind == .message, let inner = part.children.first {
                out.space()
                envelope(inner.header, into: &out)
                out.space()
                body(inner, extensible: extensible, into: &out)
                out.space()
                out.number(part.bodyLines)
            } else if part.type == "message" && (part.subtype == "rfc822" || part.subtype == "global") {
                // A message/rfc822 in a transfer encoding (RFC 2046 §5.2.1 forbids it) is not
                // looked into, but the grammar still wants an envelope, a body and lines.
                out.raw(" (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) ")
                out.number(part.bodyLines)
            } else if part.type == "text" {
                out.space()
                out.number(part.bodyLines)
            }
            if extensible {
                out.space()
                out.nstring(nonEmpty(part.header.first("Content-MD5")))
                extensionTail(part, into: &out)
            }
        }
        out.byte(UInt8(ascii: ")"))
    }

    /// `body-fld-dsp body-fld-lang body-fld-loc`.
    static func extensionTail(_ part: MIMEPart, into out: inout IMAPResponseBuffer) {
        out.space()
        if let disposition = part.header.first("Content-Disposition").map(MIMEFieldValue.init(parsing:)), !disposition.value.isEmpty {
            out.byte(UInt8(ascii: "("))
            out.string(disposition.value)
            out.space()
            parameters(disposition, into: &out)
            out.byte(UInt8(ascii: ")"))
        } else {
            out.raw("NIL")
        }
        out.space()
        let languages = part.header.text("Content-Language").map {
            $0.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map { String($0) }.filter { !$0.isEmpty }
        }
        if let languages, !languages.isEmpty {
            if languages.count == 1 {
                out.string(languages[0])
            } else {
                out.byte(UInt8(ascii: "("))
                for (index, language) in languages.prefix(50).enumerated() {
                    if index > 0 { out.space() }
                    out.string(language)
                }
                out.byte(UInt8(ascii: ")"))
            }
        } else {
            out.raw("NIL")
        }
        out.space()
        out.nstring(nonEmpty(part.header.first("Content-Location")))
    }

    static func parameters(_ value: MIMEFieldValue, into out: inout IMAPResponseBuffer) {
        guard !value.parameters.isEmpty else { return out.raw("NIL") }
        out.byte(UInt8(ascii: "("))
        for (index, parameter) in value.parameters.enumerated() {
            if index > 0 { out.space() }
            out.string(parameter.name)
            out.space()
            out.string(parameter.value)
        }
        out.byte(UInt8(ascii: ")"))
    }
}
