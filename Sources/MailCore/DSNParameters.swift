/// RFC 3461 §4.1 NOTIFY: when the sender wants a delivery status notification.
public struct DSNNotify: Hashable, Sendable, CustomStringConvertible {
    public var never: Bool
    public var success: Bool
    public var failure: Bool
    public var delay: Bool

    public init(never: Bool = false, success: Bool = false, failure: Bool = false, delay: Bool = false) {
        self.never = never
        self.success = success
        self.failure = failure
        self.delay = delay
    }

    /// `NOTIFY=NEVER` or a comma list of SUCCESS, FAILURE, DELAY; NEVER may not be combined.
    public init?(parameter: String) {
        var result = DSNNotify()
        let parts = parameter.uppercased().split(separator: ",", omittingEmptySubsequences: false)
        guard !parts.isEmpty else { return nil }
        for part in parts {
            switch part {
            case "NEVER": result.never = true
            case "SUCCESS": result.success = true
            case "FAILURE": result.failure = true
            case "DELAY": result.delay = true
            default: return nil
            }
        }
        if result.never && parts.count > 1 { return nil }
        self = result
    }

    public var description: String {
        if never { return "NEVER" }
        var parts: [String] = []
        if success { parts.append("SUCCESS") }
        if failure { parts.append("FAILURE") }
        if delay { parts.append("DELAY") }
        return parts.joined(separator: ",")
    }
}

/// RFC 3461 §4.3 RET: return the full message or only its headers in a DSN.
public enum DSNReturn: String, Hashable, Sendable {
    case full = "FULL"
    case headers = "HDRS"
}

/// RFC 3461 §4.2 ORCPT: the original recipient, as `addr-type ";" xtext` (decoded).
public struct OriginalRecipient: Hashable, Sendable, CustomStringConvertible {
    public var addressType: String
    public var address: String

    public init(addressType: String, address: String) {
        self.addressType = addressType
        self.address = address
    }

    public init?(parameter: String) {
        guard let semicolon = parameter.firstIndex(of: ";") else { return nil }
        let type = String(parameter[..<semicolon])
        guard !type.isEmpty, type.utf8.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") }),
            let decoded = XText.decode(String(parameter[parameter.index(after: semicolon)...])), !decoded.isEmpty
        else { return nil }
        self.addressType = type
        self.address = decoded
    }

    public var description: String { "\(addressType);\(XText.encode(address))" }
}

/// xtext (RFC 3461 §4): printable ASCII except "+" and "=", with "+XX" hex escapes.
public enum XText {
    public static func decode(_ text: String) -> String? {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 3
                continue
            }
            guard b >= 33, b <= 126, b != UInt8(ascii: "=") else { return nil }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func encode(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            if b >= 33, b <= 126, b != UInt8(ascii: "+"), b != UInt8(ascii: "=") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = String(b, radix: 16, uppercase: true)
                out += "+" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil  // RFC 3461 requires upper-case hex
        }
    }
}
