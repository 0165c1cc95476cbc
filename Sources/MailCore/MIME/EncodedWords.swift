/// Header text that may hold any Unicode, written as RFC 5322 allows: as it is when it is
/// printable ASCII, else as RFC 2047 encoded-words (`=?UTF-8?B?…?=`), each at most 75
/// characters and holding whole characters (§5 rule 3), separated by folding white space.
public enum EncodedWords {
    /// Bytes of UTF-8 per encoded-word: 39 bytes are 52 base64 characters, plus the 12 of
    /// `=?UTF-8?B?` and `?=` is 64, under the 75 of RFC 2047 §2, and short enough that
    /// `Subject: ` or ` filename="` and one word stay within 78 characters on a line.
    static let bytesPerWord = 39

    /// True when `text` can go into a header as it is: printable ASCII and spaces, no line break.
    public static func isPlain(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !text.contains("=?")
    }

    /// `text` as unstructured header text (a Subject): as it is when plain, else encoded-words
    /// joined by CRLF SP so the field folds between them.
    public static func unstructured(_ text: String) -> String {
        if isPlain(text) { return text }
        return words(text).joined(separator: "\r\n ")
    }

    /// The encoded-words for `text`, split on character boundaries.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > bytesPerWord, !chunk.isEmpty {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words
    }

    static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?\(Base64Text.encode(bytes))?=" }

    /// A display name for an address field (RFC 5322 §3.4): an atom run as it is, a quoted string
    /// when it has specials, encoded-words when it is not ASCII (never inside quotes, RFC 2047 §5).
    public static func displayName(_ name: String) -> String {
        guard isPlain(name) else { return words(name).joined(separator: " ") }
        let atext = "!#$%&'*+-/=?^_`{|}~ "
        if name.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || atext.unicodeScalars.contains($0) }),
            !name.hasPrefix(" "), !name.hasSuffix(" ")
        {
            return name
        }
        return quotedString(name)
    }

    /// An RFC 5322 §3.2.4 quoted string: `"` and `\` escaped with a backslash.
    public static func quotedString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted += "\\" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}
