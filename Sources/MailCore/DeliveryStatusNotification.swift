/// A delivery status notification (RFC 3464): the `multipart/report; report-type=delivery-status`
/// message Tern sends to a reverse path when recipients fail, or are delayed.
public struct DeliveryStatusNotification: Sendable {
    /// RFC 3464 §2.3.3 action values Tern reports.
    public enum Action: String, Hashable, Sendable {
        case failed
        case delayed
        case delivered
    }

    /// The per-recipient fields (RFC 3464 §2.3).
    public struct Recipient: Hashable, Sendable {
        public var finalRecipient: String
        /// The ORCPT the sender gave (RFC 3461 §4.2), reported decoded (§2.3.1).
        public var originalRecipient: OriginalRecipient?
        public var action: Action
        /// RFC 3463 status, e.g. `5.1.1`.
        public var status: String
        /// The host that answered, when a remote server decided.
        public var remoteMTA: String?
        /// The remote reply in one line, reported as `smtp; …` (§2.3.6).
        public var diagnostic: String?
        public var lastAttempt: Int?
        /// For delays: until when Tern keeps trying (§2.3.9).
        public var willRetryUntil: Int?

        public init(
            finalRecipient: String, originalRecipient: OriginalRecipient? = nil, action: Action, status: String, remoteMTA: String? = nil,
            diagnostic: String? = nil, lastAttempt: Int? = nil, willRetryUntil: Int? = nil
        ) {
            self.finalRecipient = finalRecipient
            self.originalRecipient = originalRecipient
            self.action = action
            self.status = status
            self.remoteMTA = remoteMTA
            self.diagnostic = diagnostic
            self.lastAttempt = lastAttempt
            self.willRetryUntil = willRetryUntil
        }
    }

    public var reportingMTA: String
    /// The address the report goes to (the original reverse path).
    public var to: String
    public var envelopeID: String?
    public var arrivalDate: Int
    public var date: Int
    public var messageID: String
    public var recipients: [Recipient]
    /// The original message as stored.
    public var original: [UInt8]
    /// RET=HDRS: return only the header section (§2 of RFC 3461, §4.3 of RFC 3464).
    public var headersOnly: Bool
    public var boundary: String

    public init(
        reportingMTA: String, to: String, envelopeID: String?, arrivalDate: Int, date: Int, messageID: String, recipients: [Recipient],
        original: [UInt8], headersOnly: Bool, boundary: String
    ) {
        self.reportingMTA = reportingMTA
        self.to = to
        self.envelopeID = envelopeID
        self.arrivalDate = arrivalDate
        self.date = date
        self.messageID = messageID
        self.recipients = recipients
        self.original = original
        self.headersOnly = headersOnly
        self.boundary = boundary
    }

    private var isDelayNotice: Bool { recipients.allSatisfy { $0.action == .delayed } }

    /// The complete message, CRLF line endings throughout.
    public func render() -> [UInt8] {
        var text = ""
        func line(_ s: String) { text += s + "\r\n" }
        line("From: Mail Delivery System <MAILER-DAEMON@\(reportingMTA)>")
        line("To: <\(to)>")
        line(isDelayNotice ? "Subject: Delayed Mail (still being retried)" : "Subject: Undelivered Mail Returned to Sender")
        line("Date: \(MessageDate.rfc5322(unixSeconds: date))")
        line("Message-ID: <\(messageID)>")
        // RFC 3834 §5: an automatic message, so responders must not answer it.
        line("Auto-Submitted: auto-replied")
        line("MIME-Version: 1.0")
        line("Content-Type: multipart/report; report-type=delivery-status;")
        line("\tboundary=\"\(boundary)\"")
        line("")
        line("This is a MIME-encapsulated message.")
        line("")
        line("--\(boundary)")
        line("Content-Description: Notification")
        line("Content-Type: text/plain; charset=utf-8")
        line("")
        for l in humanReadable() { line(l) }
        line("")
        line("--\(boundary)")
        line("Content-Description: Delivery report")
        line("Content-Type: message/delivery-status")
        line("")
        // §2.2: per-message fields, a blank line, then one block per recipient.
        line("Reporting-MTA: dns; \(reportingMTA)")
        if let envelopeID { line("Original-Envelope-Id: \(Self.printable(envelopeID))") }
        line("Arrival-Date: \(MessageDate.rfc5322(unixSeconds: arrivalDate))")
        for recipient in recipients {
            line("")
            line("Final-Recipient: rfc822; \(recipient.finalRecipient)")
            if let orcpt = recipient.originalRecipient {
                line("Original-Recipient: \(orcpt.addressType); \(Self.printable(orcpt.address))")
            }
            line("Action: \(recipient.action.rawValue)")
            line("Status: \(recipient.status)")
            if let mta = recipient.remoteMTA { line("Remote-MTA: dns; \(mta)") }
            if let diagnostic = recipient.diagnostic { line("Diagnostic-Code: smtp; \(Self.printable(diagnostic))") }
            if let at = recipient.lastAttempt { line("Last-Attempt-Date: \(MessageDate.rfc5322(unixSeconds: at))") }
            if let until = recipient.willRetryUntil { line("Will-Retry-Until: \(MessageDate.rfc5322(unixSeconds: until))") }
        }
        line("")
        line("--\(boundary)")
        if headersOnly {
            line("Content-Description: \(isDelayNotice ? "Delayed Message Headers" : "Undelivered Message Headers")")
            line("Content-Type: text/rfc822-headers")
        } else {
            line("Content-Description: \(isDelayNotice ? "Delayed Message" : "Undelivered Message")")
            line("Content-Type: message/rfc822")
        }
        line("")
        var out = Array(text.utf8)
        out += DotStuffing.crlf(headersOnly ? Self.headerSection(of: original) : original)
        out += Array("\r\n--\(boundary)--\r\n".utf8)
        return out
    }

    private func humanReadable() -> [String] {
        var lines: [String] = []
        if isDelayNotice {
            lines.append("This is the mail system at \(reportingMTA).")
            lines.append("")
            lines.append("Your message could not be delivered yet. It is still queued and will be")
            lines.append("retried; you do not need to send it again.")
        } else {
            lines.append("This is the mail system at \(reportingMTA).")
            lines.append("")
            lines.append("Your message could not be delivered to one or more recipients.")
            lines.append("It is attached below.")
        }
        lines.append("")
        for recipient in recipients {
            var entry = "<\(recipient.finalRecipient)>: "
            if let mta = recipient.remoteMTA, let diagnostic = recipient.diagnostic {
                entry += "host \(mta) said: \(Self.printable(diagnostic))"
            } else if let diagnostic = recipient.diagnostic {
                entry += Self.printable(diagnostic)
            } else {
                entry += "status \(recipient.status)"
            }
            lines.append(entry)
        }
        return lines
    }


    /// Header field values must not carry CR or LF (a remote reply could otherwise add fields).
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0 == "\r" || $0 == "\n" || $0 == "\t" ? " " : Character($0) })
    }

    /// The header section of a message, up to and including the empty line.
    static func headerSection(of message: [UInt8]) -> [UInt8] {
        var i = 0
        var atLineStart = true
        while i < message.count {
            if atLineStart {
                if message[i] == 0x0A { return Array(message[...i]) }
                if message[i] == 0x0D && i + 1 < message.count && message[i + 1] == 0x0A { return Array(message[...(i + 1)]) }
            }
            atLineStart = message[i] == 0x0A
            i += 1
        }
        return message
    }
}
