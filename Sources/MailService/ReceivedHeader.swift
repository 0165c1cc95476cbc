import MailCore

/// The `Received:` trace field (RFC 5321 §4.4, RFC 5322 §3.6.7).
public enum ReceivedHeader {
    public static func make(
        hostname: String, heloName: String, withProtocol: String, clientAddress: String, queueID: String, envelope: Envelope, unixSeconds: Int
    ) -> String {
        let literal = clientAddress.contains(":") ? "IPv6:\(clientAddress)" : clientAddress
        // HELO text is client-supplied: keep it to printable ASCII so it cannot break the header.
        let helo = String(heloName.unicodeScalars.filter { $0.value > 32 && $0.value < 127 && $0 != "(" && $0 != ")" })
        var text = "Received: from \(helo.isEmpty ? "unknown" : helo) ([\(literal)])\r\n"
        text += "\tby \(hostname) (Tern) with \(withProtocol) id \(queueID)"
        // Name the recipient only when there is one, as Postfix does, so a BCC list is not revealed.
        if envelope.recipients.count == 1, let rcpt = envelope.recipients.first?.path {
            text += "\r\n\tfor <\(rcpt)>"
        }
        text += "; \(MessageDate.rfc5322(unixSeconds: unixSeconds))\r\n"
        return text
    }
}
