/// Builds server responses (RFC 9051 §7) byte by byte. Strings are written in the smallest
/// form the grammar allows for their content: an atom where the caller asks for one, a quoted
/// string when every octet may be quoted, else a literal. UTF-8 goes in quoted strings only
/// when the client enabled UTF8=ACCEPT or IMAP4rev2 (RFC 9051 §9 `quoted-char`); for a rev1
/// client it is sent as a literal, which may carry any octet but NUL.
public struct IMAPResponseBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Whether 8-bit text may appear in quoted strings.
    public var utf8Quoted: Bool

    public init(utf8Quoted: Bool = false, capacity: Int = 256) {
        self.utf8Quoted = utf8Quoted
        bytes.reserveCapacity(capacity)
    }

    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    public mutating func raw(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }
    public mutating func byte(_ byte: UInt8) { bytes.append(byte) }
    public mutating func space() { bytes.append(0x20) }
    public mutating func crlf() { bytes.append(contentsOf: [0x0D, 0x0A]) }
    public mutating func number(_ n: some BinaryInteger) { raw(String(n)) }
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    public mutating func string(_ text: String) { string(Array(text.utf8)) }

    /// A quoted string when the content allows it, else a literal.
    public mutating func string(_ data: [UInt8]) {
        if data.count <= 1024, Self.quotable(data, utf8: utf8Quoted) {
            bytes.append(UInt8(ascii: "\""))
            for byte in data {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        } else {
            literal(data)
        }
    }

    public mutating func nstring(_ data: [UInt8]?) {
        guard let data else { return raw("NIL") }
        string(data)
    }

    /// A literal. A literal may carry any octet but NUL (RFC 9051 §4.3, `CHAR8`); only BINARY
    /// answers may use `~{n}` (literal8, RFC 3516 §4.2), so `binary` data with NUL goes as
    /// literal8, and elsewhere (BODY[], RFC822, a header string) each NUL is sent as 0x80, as
    /// Dovecot does: the length stays that of the stored message, and no client meets a
    /// literal8 it never asked for.
    public mutating func literal(_ data: some Collection<UInt8>, binary: Bool = false) {
        guard data.contains(0) else {
            raw("{\(data.count)}\r\n")
            return bytes.append(contentsOf: data)
        }
        if binary {
            raw("~{\(data.count)}\r\n")
            return bytes.append(contentsOf: data)
        }
        raw("{\(data.count)}\r\n")
        for byte in data { bytes.append(byte == 0 ? 0x80 : byte) }
    }

    /// A mailbox name (`mailbox` is an astring): an atom when it is one, else a string.
    public mutating func astring(_ data: [UInt8]) {
        if !data.isEmpty, data.allSatisfy({ IMAPTokenReader.isAtomChar($0) || $0 == UInt8(ascii: "]") }) {
            bytes.append(contentsOf: data)
        } else {
            string(data)
        }
    }

    /// Whether `data` fits in a quoted string: no CR, LF or NUL, and 8-bit only as valid UTF-8
    /// when allowed.
    static func quotable(_ data: [UInt8], utf8: Bool) -> Bool {
        var high = false
        for byte in data {
            if byte == 0x0D || byte == 0x0A || byte == 0 { return false }
            if byte >= 0x80 {
                guard utf8 else { return false }
                high = true
            }
        }
        if high { return String(validating: data, as: UTF8.self) != nil }
        return true
    }

    /// Whether parentheses balance outside quoted strings and literals: the shape check tests
    /// and fuzzers apply to every ENVELOPE and BODYSTRUCTURE.
    public static func isBalanced(_ bytes: [UInt8]) -> Bool {
        var depth = 0
        var i = 0
        var quoted = false
        while i < bytes.count {
            let byte = bytes[i]
            if quoted {
                if byte == UInt8(ascii: "\\") { i += 1 } else if byte == UInt8(ascii: "\"") { quoted = false }
            } else if byte == UInt8(ascii: "\"") {
                quoted = true
            } else if byte == UInt8(ascii: "{") || (byte == UInt8(ascii: "~") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "{")) {
                let open = byte == UInt8(ascii: "~") ? i + 1 : i
                guard let close = bytes[open...].firstIndex(of: UInt8(ascii: "}")),
                    let size = Int(String(decoding: bytes[(open + 1)..<close].filter { $0 != UInt8(ascii: "+") }, as: UTF8.self))
                else { return false }
                i = close + 3 + size
                continue
            } else if byte == UInt8(ascii: "(") {
                depth += 1
            } else if byte == UInt8(ascii: ")") {
                depth -= 1
                if depth < 0 { return false }
            }
            i += 1
        }
        return depth == 0 && !quoted
    }
}
