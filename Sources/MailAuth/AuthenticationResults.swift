/// The Authentication-Results header field (RFC 8601) that records what Tern found, and the
/// removal of forged ones that claim to come from Tern (§5).
public enum AuthenticationResults {
    public static func field(
        authservID: String, spf: SPFOutcome?, mailFrom: String?, helo: String?, dkim: [DKIMResult], dmarc: DMARCOutcome?,
        heloSPF: SPFOutcome? = nil
    ) -> String {
        var results: [String] = []
        if let spf {
            var text = "spf=\(spf.result.rawValue)"
            if let detail = spf.detail, spf.result != .pass { text += " (\(comment(detail)))" }
            if let mailFrom, !mailFrom.isEmpty {
                text += " smtp.mailfrom=\(value(mailFrom))"
            } else if let helo {
                text += " smtp.helo=\(value(helo))"
            }
            results.append(text)
        }
        // RFC 7208 §2.3: the HELO identity's own check, reported beside the MAIL FROM one.
        if let heloSPF, let helo, !(mailFrom ?? "").isEmpty {
            var text = "spf=\(heloSPF.result.rawValue)"
            if let detail = heloSPF.detail, heloSPF.result != .pass { text += " (\(comment(detail)))" }
            results.append(text + " smtp.helo=\(value(helo))")
        }
        if dkim.isEmpty {
            results.append("dkim=none")
        }
        for result in dkim {
            var text = "dkim=\(result.status.rawValue)"
            var notes: [String] = []
            if let bits = result.keyBits, result.algorithm == .rsaSHA256 { notes.append("\(bits)-bit key") }
            if result.bodyLengthLimited { notes.append("body length limited by l=") }
            if result.testing { notes.append("key in testing mode") }
            if let reason = result.reason { notes.append(reason) }
            if !notes.isEmpty { text += " (\(comment(notes.joined(separator: "; "))))" }
            if let d = result.domain { text += " header.d=\(value(d))" }
            if let s = result.selector { text += " header.s=\(value(s))" }
            if let i = result.identity, result.status == .pass { text += " header.i=\(value(i))" }
            if let a = result.algorithm { text += " header.a=\(a.rawValue)" }
            results.append(text)
        }
        if let dmarc {
            var text = "dmarc=\(dmarc.result.rawValue)"
            if let policy = dmarc.policy { text += " (p=\(policy.rawValue) dis=\(dmarc.disposition.rawValue))" }
            if let domain = dmarc.fromDomain { text += " header.from=\(value(domain))" }
            results.append(text)
        }
        if results.isEmpty { return "Authentication-Results: \(authservID); none\r\n" }
        return "Authentication-Results: \(authservID);\r\n\t" + results.joined(separator: ";\r\n\t") + "\r\n"
    }

    /// Comments may not hold unbalanced parentheses or line breaks.
    static func comment(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F && $0 != "(" && $0 != ")" && $0 != "\\" }.map(Character.init))
    }

    /// A value: a token as it is, otherwise a quoted string (RFC 8601 §2.2 pvalue).
    static func value(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"()<>,;:\\\"[]?=".unicodeScalars.contains($0) || $0 == "@" }
        if safe { return text }
        return "\"" + String(text.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }.map(Character.init)) + "\""
    }

    /// The authserv-id of an Authentication-Results value: its first token.
    public static func authservID(of field: RawHeaderField) -> String {
        let value = field.unfoldedValue
        // Leading comments (and the space after them) may come first. One pass with an index:
        // no copy per comment, so a field of a million "()" costs what its length costs.
        var index = value.startIndex
        while index < value.endIndex, value[index] == "(", let close = value[index...].firstIndex(of: ")") {
            index = value.index(after: close)
            while index < value.endIndex, value[index] == " " || value[index] == "\t" { index = value.index(after: index) }
        }
        let rest = value[index...]
        let end = rest.firstIndex(where: { $0 == ";" || $0 == " " || $0 == "\t" }) ?? rest.endIndex
        return String(rest[..<end]).lowercased()
    }

    /// The message without any Authentication-Results field that claims `authservID` (a forgery
    /// from outside, §5), and how many went.
    public static func removingForged(_ message: [UInt8], authservID: String) -> (message: [UInt8], removed: Int) {
        let header = MessageHeader(parsing: message)
        let id = authservID.lowercased()
        let forged = header.fields.filter { $0.name.lowercased() == "authentication-results" && Self.authservID(of: $0) == id }
        if forged.isEmpty { return (message, 0) }
        var out: [UInt8] = []
        out.reserveCapacity(message.count)
        var position = 0
        for field in forged {
            out += message[position..<field.raw.startIndex]
            position = field.raw.endIndex
        }
        out += message[position...]
        return (out, forged.count)
    }
}

import Foundation
