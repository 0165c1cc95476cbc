import MailCore

/// Parses one command line (without its CRLF) into an `SMTPCommand`.
///
/// The line framer has already enforced the hard byte limit; this applies the per-command
/// limits of RFC 5321 §4.5.3.1.4 (512 octets including CRLF), raised for MAIL and RCPT by the
/// extensions that add parameters to them (RFC 1870 §3, RFC 3461 §5, RFC 4954 §5).
public enum SMTPCommandParser {
    public static let maximumCommandLength = 512
    public static let maximumMailRcptLength = 2048

    public static func parse(_ line: some Collection<UInt8>) throws(SMTPCommandError) -> SMTPCommand {
        let bytes = Array(line)
        if bytes.contains(where: { $0 == 0 || $0 == 0x0D || $0 == 0x0A }) {
            throw .syntax("control characters in command")
        }
        // Verb: up to the first space, case-insensitive (RFC 5321 §2.4).
        let space = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.count
        let verb = String(decoding: bytes[..<space], as: UTF8.self).uppercased()
        let argumentBytes = space < bytes.count ? bytes[(space + 1)...] : []
        guard let argument = String(validating: argumentBytes, as: UTF8.self) else {
            throw .syntax("invalid UTF-8")
        }
        let isPathCommand = verb == "MAIL" || verb == "RCPT"
        if bytes.count + 2 > (isPathCommand ? maximumMailRcptLength : maximumCommandLength) {
            throw .lineTooLong
        }
        switch verb {
        case "EHLO", "HELO":
            let name = argument.trimmingSpaces()
            guard !name.isEmpty, !name.contains(" ") else { throw .syntax("\(verb) hostname") }
            return verb == "EHLO" ? .ehlo(name) : .helo(name)
        case "MAIL":
            return try parseMail(argument)
        case "RCPT":
            return try parseRcpt(argument)
        case "DATA":
            guard argument.trimmingSpaces().isEmpty else { throw .syntax("DATA takes no arguments") }
            return .data
        case "BDAT":
            return try parseBdat(argument)
        case "RSET":
            guard argument.trimmingSpaces().isEmpty else { throw .syntax("RSET takes no arguments") }
            return .rset
        case "NOOP":
            return .noop  // RFC 5321 §4.1.1.9: a parameter may be given and is ignored.
        case "QUIT":
            guard argument.trimmingSpaces().isEmpty else { throw .syntax("QUIT takes no arguments") }
            return .quit
        case "VRFY":
            guard !argument.trimmingSpaces().isEmpty else { throw .syntax("VRFY string") }
            return .vrfy(argument.trimmingSpaces())
        case "EXPN":
            guard !argument.trimmingSpaces().isEmpty else { throw .syntax("EXPN string") }
            return .expn(argument.trimmingSpaces())
        case "HELP":
            let topic = argument.trimmingSpaces()
            return .help(topic.isEmpty ? nil : topic)
        case "STARTTLS":
            guard argument.trimmingSpaces().isEmpty else { throw .syntax("STARTTLS takes no arguments") }
            return .startTLS
        case "AUTH":
            let parts = argument.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...2).contains(parts.count) else { throw .syntax("AUTH mechanism [initial-response]") }
            return .auth(mechanism: parts[0].uppercased(), initialResponse: parts.count == 2 ? String(parts[1]) : nil)
        default:
            throw .unrecognized
        }
    }

    /// "MAIL FROM:" Reverse-path [SP Mail-parameters]
    static func parseMail(_ argument: String) throws(SMTPCommandError) -> SMTPCommand {
        guard let (pathText, parameterText) = splitPath(argument, keyword: "FROM:") else {
            throw .syntax("MAIL FROM:<address>")
        }
        var parameters = MailParameters()
        var seen = Set<String>()
        for (key, value) in try keywordValues(parameterText) {
            guard seen.insert(key).inserted else { throw .invalidParameter(key) }
            switch key {
            case "SIZE":
                // RFC 1870: size-value ::= 1*20DIGIT
                guard let value, (1...20).contains(value.count), value.allSatisfy(\.isASCIIDigit) else { throw .invalidParameter(key) }
                parameters.size = Int(value) ?? Int.max
            case "BODY":
                guard let value, let body = BodyType(rawValue: value.uppercased()), body != .binaryMIME else { throw .invalidParameter(key) }
                parameters.body = body
            case "SMTPUTF8":
                guard value == nil else { throw .invalidParameter(key) }
                parameters.smtpUTF8 = true
            case "RET":
                guard let value, let ret = DSNReturn(rawValue: value.uppercased()) else { throw .invalidParameter(key) }
                parameters.ret = ret
            case "ENVID":
                // RFC 3461 §4.4: at most 100 characters, xtext.
                guard let value, value.utf8.count <= 100, let decoded = XText.decode(value) else { throw .invalidParameter(key) }
                parameters.envelopeID = decoded
            case "AUTH":
                guard let value, XText.decode(value) != nil else { throw .invalidParameter(key) }
                parameters.auth = XText.decode(value)
            default:
                throw .unknownParameter(key)
            }
        }
        do {
            let path = try ReversePath(parsing: pathText, allowUTF8: parameters.smtpUTF8)
            return .mail(path, parameters)
        } catch {
            throw .invalidSender(error)
        }
    }

    /// "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]
    static func parseRcpt(_ argument: String) throws(SMTPCommandError) -> SMTPCommand {
        guard let (pathText, parameterText) = splitPath(argument, keyword: "TO:") else {
            throw .syntax("RCPT TO:<address>")
        }
        var parameters = RecipientParameters()
        var seen = Set<String>()
        for (key, value) in try keywordValues(parameterText) {
            guard seen.insert(key).inserted else { throw .invalidParameter(key) }
            switch key {
            case "NOTIFY":
                guard let value, let notify = DSNNotify(parameter: value) else { throw .invalidParameter(key) }
                parameters.notify = notify
            case "ORCPT":
                guard let value, let original = OriginalRecipient(parameter: value) else { throw .invalidParameter(key) }
                parameters.originalRecipient = original
            default:
                throw .unknownParameter(key)
            }
        }
        // UTF-8 in RCPT is judged against MAIL's SMTPUTF8 by the session; parse permissively here.
        do {
            return .rcpt(try ForwardPath(parsing: pathText, allowUTF8: true), parameters)
        } catch {
            throw .invalidRecipient(error)
        }
    }

    /// BDAT SP chunk-size [SP end-marker] (RFC 3030 §4)
    static func parseBdat(_ argument: String) throws(SMTPCommandError) -> SMTPCommand {
        let parts = argument.split(separator: " ", omittingEmptySubsequences: true)
        guard (1...2).contains(parts.count), (1...20).contains(parts[0].count), parts[0].allSatisfy(\.isASCIIDigit),
            let size = Int(parts[0])
        else { throw .syntax("BDAT chunk-size [LAST]") }
        if parts.count == 2 {
            guard parts[1].uppercased() == "LAST" else { throw .syntax("BDAT chunk-size [LAST]") }
            return .bdat(size: size, last: true)
        }
        return .bdat(size: size, last: false)
    }

    /// Splits `FROM:<path> params` into the path (with brackets) and the parameter text.
    /// A space after the colon is tolerated, as Postfix and Exim do for broken clients.
    static func splitPath(_ argument: String, keyword: String) -> (String, Substring)? {
        guard argument.uppercased().hasPrefix(keyword) else { return nil }
        var rest = argument.dropFirst(keyword.count)
        while rest.first == " " { rest = rest.dropFirst() }
        guard rest.first == "<" else {
            // Bare address without brackets: hand it through so the path parser names the error.
            let end = rest.firstIndex(of: " ") ?? rest.endIndex
            return rest.isEmpty ? nil : (String(rest[..<end]), rest[end...])
        }
        var inQuotes = false
        var escaped = false
        var index = rest.startIndex
        while index < rest.endIndex {
            let c = rest[index]
            if escaped {
                escaped = false
            } else if c == "\\" && inQuotes {
                escaped = true
            } else if c == "\"" {
                inQuotes.toggle()
            } else if c == ">" && !inQuotes {
                let end = rest.index(after: index)
                return (String(rest[..<end]), rest[end...])
            }
            index = rest.index(after: index)
        }
        return nil
    }

    /// esmtp-param = esmtp-keyword ["=" esmtp-value], separated by single spaces (RFC 5321 §4.1.2).
    static func keywordValues(_ text: Substring) throws(SMTPCommandError) -> [(String, String?)] {
        guard !text.isEmpty else { return [] }
        guard text.first == " " else { throw .syntax("parameters must follow the path after a space") }
        var result: [(String, String?)] = []
        for item in text.split(separator: " ", omittingEmptySubsequences: true) {
            let key: Substring
            var value: String? = nil
            if let eq = item.firstIndex(of: "=") {
                key = item[..<eq]
                value = String(item[item.index(after: eq)...])
                // esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 also allows UTF-8 here.
                guard let v = value, !v.isEmpty, v.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 61 && $0.value != 127 }) else {
                    throw .invalidParameter(String(key).uppercased())
                }
            } else {
                key = item
            }
            guard let first = key.utf8.first, isAlnum(first), key.utf8.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") }) else {
                throw .syntax("bad parameter keyword")
            }
            result.append((key.uppercased(), value))
        }
        return result
    }

    private static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
