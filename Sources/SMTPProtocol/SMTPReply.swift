import NIOCore

/// An RFC 3463 enhanced status code: class.subject.detail, e.g. 5.1.1.
public struct EnhancedStatus: Hashable, Sendable, CustomStringConvertible {
    public let statusClass: Int
    public let subject: Int
    public let detail: Int

    public init(_ statusClass: Int, _ subject: Int, _ detail: Int) {
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }
}

/// A reply: a three-digit code, an enhanced status (RFC 2034), and one or more text lines.
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    public let code: Int
    public let enhanced: EnhancedStatus?
    public let lines: [String]

    public init(_ code: Int, _ enhanced: EnhancedStatus?, _ text: String) {
        self.init(code, enhanced, lines: [text])
    }

    public init(_ code: Int, _ enhanced: EnhancedStatus?, lines: [String]) {
        precondition((200...599).contains(code), "SMTP reply code out of range")
        self.code = code
        self.enhanced = enhanced
        // CR and LF inside reply text would let a peer-supplied string forge reply lines.
        self.lines = (lines.isEmpty ? [""] : lines).map { line in
            String(line.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : Character($0) })
        }
    }

    public var isPositive: Bool { code < 400 }
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    public var isPermanentFailure: Bool { code >= 500 }

    /// The reply as it goes on the wire: `code-text` lines then `code text`, each ending CRLF
    /// (RFC 5321 §4.2.1). RFC 2034 §4: the enhanced code starts the text of every line.
    public func encode(into buffer: inout ByteBuffer) {
        for (i, line) in lines.enumerated() {
            buffer.writeString(String(code))
            buffer.writeInteger(i == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let enhanced {
                buffer.writeString(enhanced.description)
                if !line.isEmpty { buffer.writeInteger(UInt8(ascii: " ")) }
            }
            buffer.writeString(line)
            buffer.writeStaticString("\r\n")
        }
    }

    public var description: String {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return String(buffer: buffer)
    }

    /// The reply in one line (for logs and stored `last_reply` columns).
    public var singleLine: String {
        let text = lines.joined(separator: " ")
        if let enhanced { return "\(code) \(enhanced) \(text)" }
        return "\(code) \(text)"
    }
}

extension SMTPReply {
    // Named replies used by the session, with the RFC that decides each.
    public static let ok = SMTPReply(250, EnhancedStatus(2, 0, 0), "OK")
    public static let senderOK = SMTPReply(250, EnhancedStatus(2, 1, 0), "Sender OK")
    public static let recipientOK = SMTPReply(250, EnhancedStatus(2, 1, 5), "Recipient OK")
    public static let resetOK = SMTPReply(250, EnhancedStatus(2, 0, 0), "Reset OK")
    public static let startData = SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")
    public static let readyToStartTLS = SMTPReply(220, EnhancedStatus(2, 0, 0), "Ready to start TLS")
    // RFC 5321 §3.5.3: VRFY that neither confirms nor denies.
    public static let cannotVerify = SMTPReply(252, EnhancedStatus(2, 5, 2), "Cannot VRFY user, but will accept message and attempt delivery")
    public static let badSequenceNeedHelo = SMTPReply(503, EnhancedStatus(5, 5, 1), "Send EHLO or HELO first")
    public static let badSequenceNeedMail = SMTPReply(503, EnhancedStatus(5, 5, 1), "Need MAIL command first")
    public static let badSequenceNeedRcpt = SMTPReply(503, EnhancedStatus(5, 5, 1), "Need RCPT command first")
    public static let nestedMail = SMTPReply(503, EnhancedStatus(5, 5, 1), "Sender already specified")
    public static let tlsAlreadyActive = SMTPReply(503, EnhancedStatus(5, 5, 1), "TLS already active")
    public static let tlsNotAvailable = SMTPReply(454, EnhancedStatus(4, 7, 0), "TLS not available")
    public static let authRequired = SMTPReply(530, EnhancedStatus(5, 7, 0), "Authentication required")
    public static let authNotAvailable = SMTPReply(502, EnhancedStatus(5, 5, 1), "AUTH not available")
    // RFC 4954 §6.
    public static let encryptionRequired = SMTPReply(538, EnhancedStatus(5, 7, 11), "Encryption required for requested authentication mechanism")
    public static let authenticationFailed = SMTPReply(535, EnhancedStatus(5, 7, 8), "Authentication credentials invalid")
    public static let tooManyAuthenticationFailures = SMTPReply(
        421, EnhancedStatus(4, 7, 0), "Too many authentication failures from your address; try again later")
    public static let badBase64 = SMTPReply(501, EnhancedStatus(5, 5, 2), "Cannot decode response")
    public static let relayDenied = SMTPReply(550, EnhancedStatus(5, 7, 1), "Relay access denied")
    public static let noSuchUser = SMTPReply(550, EnhancedStatus(5, 1, 1), "No such user here")
    public static let tooManyRecipients = SMTPReply(452, EnhancedStatus(4, 5, 3), "Too many recipients")
    public static let messageTooBig = SMTPReply(552, EnhancedStatus(5, 3, 4), "Message size exceeds fixed maximum message size")
    public static let lineTooLong = SMTPReply(500, EnhancedStatus(5, 5, 2), "Line too long")
    public static let bareLineEnding = SMTPReply(550, EnhancedStatus(5, 5, 2), "Message contains bare CR or LF; lines must end with CRLF (RFC 5321 §2.3.8)")
    public static let dataLineTooLong = SMTPReply(550, EnhancedStatus(5, 5, 2), "Message has a line longer than 1000 octets (RFC 5321 §4.5.3.1.6)")
    public static let storageFailed = SMTPReply(451, EnhancedStatus(4, 3, 0), "Local error in processing; try again later")
    public static let insufficientStorage = SMTPReply(452, EnhancedStatus(4, 3, 1), "Insufficient system storage")
    public static let tooManyTransactions = SMTPReply(421, EnhancedStatus(4, 7, 0), "Too many transactions in one connection; reconnect")
    public static let tooManyErrors = SMTPReply(421, EnhancedStatus(4, 7, 0), "Too many errors; closing connection")
    public static let timeout = SMTPReply(421, EnhancedStatus(4, 4, 2), "Timeout; closing connection")
    public static let tooManyConnections = SMTPReply(421, EnhancedStatus(4, 7, 0), "Too many connections; try again later")
    public static let connectionRateExceeded = SMTPReply(421, EnhancedStatus(4, 7, 0), "Too many connections from your address per minute; try again later")
    public static let shuttingDown = SMTPReply(421, EnhancedStatus(4, 3, 2), "Server shutting down; try again later")
    public static let notImplemented = SMTPReply(502, EnhancedStatus(5, 5, 1), "Command not implemented")
    public static let unrecognized = SMTPReply(500, EnhancedStatus(5, 5, 2), "Command unrecognized")
    public static let utf8NeedsSMTPUTF8 = SMTPReply(553, EnhancedStatus(5, 6, 7), "Non-ASCII address requires SMTPUTF8")
}
