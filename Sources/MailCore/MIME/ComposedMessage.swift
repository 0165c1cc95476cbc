/// A message built from parts, as an API request describes one (issue 13): addresses, subject,
/// text and HTML bodies, attachments and inline images, extra header fields. `render` writes it
/// as RFC 5322 + MIME (RFC 2045–2049): `multipart/alternative` for text and HTML,
/// `multipart/related` for inline images, `multipart/mixed` for attachments, RFC 2047 for
/// non-ASCII header text, and the lightest transfer encoding each part allows.
public struct ComposedMessage: Sendable {
    public struct Address: Sendable, Hashable {
        public var email: String
        public var name: String?

        public init(email: String, name: String? = nil) {
            self.email = email
            self.name = name
        }

        /// `Name <email>` or `email` (RFC 5322 §3.4).
        public var headerForm: String {
            guard let name, !name.isEmpty else { return email }
            return "\(EncodedWords.displayName(name)) <\(email)>"
        }
    }

    /// A body part: text/plain, text/html or another text type, in order.
    public struct Content: Sendable, Hashable {
        public var type: String
        public var value: String

        public init(type: String, value: String) {
            self.type = type
            self.value = value
        }
    }

    public struct Attachment: Sendable, Hashable {
        public enum Disposition: String, Sendable, Hashable {
            case attachment, inline
        }

        public var content: [UInt8]
        public var filename: String
        public var type: String
        public var disposition: Disposition
        /// For inline images: referenced from the HTML as `cid:…`.
        public var contentID: String?

        public init(content: [UInt8], filename: String, type: String = "application/octet-stream", disposition: Disposition = .attachment, contentID: String? = nil) {
            self.content = content
            self.filename = filename
            self.type = type
            self.disposition = disposition
            self.contentID = contentID
        }
    }

    public var from: Address
    public var to: [Address]
    public var cc: [Address] = []
    public var replyTo: [Address] = []
    public var subject: String
    public var contents: [Content]
    public var attachments: [Attachment] = []
    /// Extra fields, in order (names already checked by the caller).
    public var headers: [(name: String, value: String)] = []
    public var messageID: String
    /// RFC 5322 §3.3 date text.
    public var date: String

    public init(from: Address, to: [Address], subject: String, contents: [Content], messageID: String, date: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.contents = contents
        self.messageID = messageID
        self.date = date
    }

    /// The message as bytes with CRLF line breaks. `boundary(n)` names the n-th multipart
    /// boundary (random in use; fixed in golden tests).
    public func render(boundary: (Int) -> String) -> [UInt8] {
        var header = ""
        func field(_ name: String, _ value: String) { header += Self.folded(name: name, value: value) }
        func unstructured(_ name: String, _ value: String) {
            if EncodedWords.isPlain(value) {
                field(name, value)
            } else {
                header += "\(name): \(EncodedWords.words(value).joined(separator: "\r\n "))\r\n"
            }
        }
        field("From", from.headerForm)
        if !to.isEmpty { field("To", to.map(\.headerForm).joined(separator: ", ")) }
        if !cc.isEmpty { field("Cc", cc.map(\.headerForm).joined(separator: ", ")) }
        if !replyTo.isEmpty { field("Reply-To", replyTo.map(\.headerForm).joined(separator: ", ")) }
        unstructured("Subject", subject)
        field("Date", date)
        field("Message-ID", messageID)
        for (name, value) in headers { unstructured(name, value) }
        header += "MIME-Version: 1.0\r\n"
        var counter = 0
        func nextBoundary() -> String {
            defer { counter += 1 }
            return boundary(counter)
        }
        let body = bodyPart(nextBoundary: nextBoundary)
        return Array(header.utf8) + body
    }

    /// A part: its header lines (Content-Type and friends), a blank line, its body.
    struct Part {
        var header: String
        var body: [UInt8]

        var bytes: [UInt8] { Array(header.utf8) + [0x0D, 0x0A] + body }
    }

    func bodyPart(nextBoundary: () -> String) -> [UInt8] {
        let texts = contents.map(Self.textPart)
        let inline = attachments.filter { $0.disposition == .inline }
        let attached = attachments.filter { $0.disposition == .attachment }
        var top: Part
        if texts.count > 1 {
            top = Self.multipart("alternative", texts, boundary: nextBoundary())
        } else {
            top = texts.first ?? Self.textPart(Content(type: "text/plain", value: ""))
        }
        if !inline.isEmpty { top = Self.multipart("related", [top] + inline.map(Self.attachmentPart), boundary: nextBoundary()) }
        if !attached.isEmpty { top = Self.multipart("mixed", [top] + attached.map(Self.attachmentPart), boundary: nextBoundary()) }
        return top.bytes
    }

    static func textPart(_ content: Content) -> Part {
        let text = ContentTransferEncoding.canonicalLineBreaks(Array(content.value.utf8))
        let encoding = ContentTransferEncoding.forText(text)
        let charset = encoding == .sevenBit ? "us-ascii" : "utf-8"
        return Part(
            header: "Content-Type: \(content.type); charset=\(charset)\r\nContent-Transfer-Encoding: \(encoding.rawValue)\r\n",
            body: encoding.encode(text))
    }

    static func attachmentPart(_ attachment: Attachment) -> Part {
        let name = parameterValue(attachment.filename)
        // Each parameter on a line of its own (folded), so a long name keeps lines short.
        var header = "Content-Type: \(attachment.type);\r\n name=\(name)\r\n"
        header += "Content-Disposition: \(attachment.disposition.rawValue);\r\n filename=\(name)\r\n"
        header += "Content-Transfer-Encoding: base64\r\n"
        if let id = attachment.contentID { header += "Content-ID: <\(id)>\r\n" }
        return Part(header: header, body: ContentTransferEncoding.base64.encode(attachment.content))
    }

    static func multipart(_ subtype: String, _ parts: [Part], boundary: String) -> Part {
        var body: [UInt8] = Array("This is a multi-part message in MIME format.\r\n".utf8)
        for part in parts {
            body += Array("--\(boundary)\r\n".utf8)
            body += part.bytes
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return Part(header: "Content-Type: multipart/\(subtype); boundary=\"\(boundary)\"\r\n", body: body)
    }

    /// A parameter value (RFC 2045 §5.1): a quoted string, or encoded-words for non-ASCII file
    /// names, as mail clients read them (RFC 2231 is the standard; encoded-words are what
    /// clients, SendGrid included, write and read).
    static func parameterValue(_ text: String) -> String {
        if EncodedWords.isPlain(text) { return EncodedWords.quotedString(text) }
        return "\"" + EncodedWords.words(text).joined(separator: " ") + "\""
    }

    /// `name: value` folded at ", " and spaces so no line passes 78 characters where it can
    /// be helped (RFC 5322 §2.1.1, §2.2.3).
    static func folded(name: String, value: String) -> String {
        var out = "\(name):"
        var lineLength = out.count
        for piece in value.split(separator: " ", omittingEmptySubsequences: false) {
            // Fold before a word that would pass 78, unless the line holds nothing yet.
            if lineLength + 1 + piece.count > 78 && lineLength > name.count + 1 {
                out += "\r\n"
                lineLength = 0
            }
            out += " " + piece
            lineLength += 1 + piece.count
        }
        return out + "\r\n"
    }
}
