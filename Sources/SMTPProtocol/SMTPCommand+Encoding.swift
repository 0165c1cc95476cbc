import MailCore
import NIOCore

extension SMTPCommand {
    /// The command line as it goes on the wire, CRLF included: what `SMTPCommandParser` reads
    /// back to the same value (RFC 5321 §4.1.1; parameters of RFC 1870, 6152, 6531, 3461, 4954,
    /// 3030). The client session writes every command through it.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString(text)
        buffer.writeStaticString("\r\n")
    }

    /// The command line without its CRLF.
    public var text: String {
        switch self {
        case .helo(let name): "HELO \(name)"
        case .ehlo(let name): "EHLO \(name)"
        case .mail(let path, let parameters): "MAIL FROM:<\(path)>" + Self.text(of: parameters)
        case .rcpt(let path, let parameters): "RCPT TO:<\(path)>" + Self.text(of: parameters)
        case .data: "DATA"
        case .bdat(let size, let last): last ? "BDAT \(size) LAST" : "BDAT \(size)"
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        case .vrfy(let text): "VRFY \(text)"
        case .expn(let text): "EXPN \(text)"
        case .help(let topic): topic.map { "HELP \($0)" } ?? "HELP"
        case .startTLS: "STARTTLS"
        case .auth(let mechanism, let initialResponse): initialResponse.map { "AUTH \(mechanism) \($0)" } ?? "AUTH \(mechanism)"
        }
    }

    /// Mail-parameters in a fixed order; ENVID and AUTH as xtext (RFC 3461 §4, RFC 4954 §5).
    static func text(of parameters: MailParameters) -> String {
        var text = ""
        if let size = parameters.size { text += " SIZE=\(size)" }
        if let body = parameters.body { text += " BODY=\(body.rawValue)" }
        if parameters.smtpUTF8 { text += " SMTPUTF8" }
        if let ret = parameters.ret { text += " RET=\(ret.rawValue)" }
        if let envelopeID = parameters.envelopeID { text += " ENVID=\(XText.encode(envelopeID))" }
        if let auth = parameters.auth { text += " AUTH=\(XText.encode(auth))" }
        return text
    }

    /// Rcpt-parameters: NOTIFY, then ORCPT (its address as xtext).
    static func text(of parameters: RecipientParameters) -> String {
        var text = ""
        if let notify = parameters.notify { text += " NOTIFY=\(notify)" }
        if let original = parameters.originalRecipient { text += " ORCPT=\(original)" }
        return text
    }
}
