import MailCore

/// An abuse feedback report (ARF, RFC 5965): `multipart/report; report-type=feedback-report`
/// with a `message/feedback-report` part of fields and the original message (or its header,
/// `text/rfc822-headers`). Read for `spamreport` events: which message, to whom.
public struct FeedbackReport: Sendable, Equatable {
    /// `abuse`, `fraud`, `virus`, `other`, `not-spam` (RFC 5965 §7.3), lowercased.
    public var feedbackType: String
    public var userAgent: String?
    /// Original-Rcpt-To (RFC 5965 §3.2), without angle brackets; may be absent or redacted.
    public var originalRecipient: String?
    public var originalMailFrom: String?
    public var sourceIP: String?
    /// The original message's header fields, when the report carries them.
    public var originalHeader: MIMEHeader?

    /// The original's Message-ID without angle brackets.
    public var originalMessageID: String? { originalHeader?.text("Message-ID").map(Self.unbracketed) }

    /// A field of the original's header (for a header Tern added, such as its message id).
    public func originalField(_ name: String) -> String? { originalHeader?.text(name)?.trimmingSpaces() }

    /// The report in `message`, or nil when it is not one.
    public init?(message bytes: [UInt8]) {
        let root = MIMEPart(message: bytes)
        guard root.kind == .multipart, root.type == "multipart", root.subtype == "report",
            let reportType = root.contentType.parameter("report-type"), ASCIICase.equal(String(decoding: reportType, as: UTF8.self), "feedback-report"),
            let fieldsPart = root.children.first(where: { $0.type == "message" && $0.subtype == "feedback-report" })
        else { return nil }
        let fields = MIMEHeader(bytes, fieldsPart.bodyRange)
        guard let type = fields.text("Feedback-Type")?.trimmingSpaces(), !type.isEmpty else { return nil }
        feedbackType = type.lowercased()
        userAgent = fields.text("User-Agent")?.trimmingSpaces()
        originalRecipient = fields.text("Original-Rcpt-To").map(Self.unbracketed)
        originalMailFrom = fields.text("Original-Mail-From").map(Self.unbracketed)
        sourceIP = fields.text("Source-IP")?.trimmingSpaces()
        originalHeader = nil
        if let original = root.children.first(where: { $0.type == "message" && ($0.subtype == "rfc822" || $0.subtype == "global") }) {
            if let inner = original.children.first {
                originalHeader = inner.header
            } else {
                // A message/rfc822 part in base64 or quoted-printable: decode, then read.
                let encoding = original.header.text("Content-Transfer-Encoding") ?? "7bit"
                if let decoded = TransferDecoding.decode(bytes[original.bodyRange], encoding: encoding) {
                    originalHeader = MIMEPart(message: decoded).header
                }
            }
        } else if let headers = root.children.first(where: { $0.type == "text" && $0.subtype == "rfc822-headers" }) {
            originalHeader = MIMEHeader(bytes, headers.bodyRange)
        }
    }

    static func unbracketed(_ value: String) -> String {
        var text = value.trimmingSpaces()
        if text.hasPrefix("<"), text.hasSuffix(">"), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        return text
    }
}
