/// A macro-string (RFC 7208 §7.1): literal text with `%{…}` macros that expand to parts of the
/// sender, the domain being checked, the client address and so on.
struct SPFMacroString: Equatable {
    enum Piece: Equatable {
        case literal(String)
        /// `letter` lowercased; `escape` when written uppercase (URL-escaped, §7.3).
        case macro(letter: Character, escape: Bool, rightmost: Int?, reverse: Bool, delimiters: [Character])
    }

    var pieces: [Piece]
    var text: String

    static let letters: Set<Character> = ["s", "l", "o", "d", "i", "p", "h", "v"]
    /// c, r and t are only allowed in explanation strings.
    static let explanationLetters: Set<Character> = ["c", "r", "t"]
    static let delimiterSet: Set<Character> = [".", "-", "+", ",", "/", "_", "="]

    init(parsing text: String, allowExplanationLetters: Bool, allowSpace: Bool = false) throws(SPFRecord.SyntaxError) {
        self.text = text
        var pieces: [Piece] = []
        var literal = ""
        var chars = Array(text)[...]
        func fail(_ why: String) -> SPFRecord.SyntaxError { SPFRecord.SyntaxError(description: "\(why) in \"\(text)\"") }
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "%" {
                guard let next = chars.first else { throw fail("lone %") }
                chars = chars.dropFirst()
                switch next {
                case "%": literal.append("%")
                case "_": literal.append(" ")
                case "-": literal += "%20"
                case "{":
                    guard let close = chars.firstIndex(of: "}") else { throw fail("unclosed macro") }
                    var body = chars[..<close]
                    chars = chars[(close + 1)...]
                    guard let letterChar = body.first, letterChar.isASCII, letterChar.isLetter else { throw fail("bad macro letter") }
                    body = body.dropFirst()
                    let letter = Character(letterChar.lowercased())
                    guard Self.letters.contains(letter) || (allowExplanationLetters && Self.explanationLetters.contains(letter)) else {
                        throw fail("macro letter \(letterChar) not allowed here")
                    }
                    var digits = ""
                    while let d = body.first, d.isASCII, d.isNumber {
                        digits.append(d)
                        body = body.dropFirst()
                    }
                    var rightmost: Int?
                    if !digits.isEmpty {
                        // §7.3: a DIGIT transformer must be at least one.
                        guard let n = Int(digits.prefix(6)), n >= 1 else { throw fail("macro transformer of zero") }
                        rightmost = n
                    }
                    var reverse = false
                    if let r = body.first, r == "r" || r == "R" {
                        reverse = true
                        body = body.dropFirst()
                    }
                    guard body.allSatisfy({ Self.delimiterSet.contains($0) }) else { throw fail("bad macro delimiter") }
                    if !literal.isEmpty {
                        pieces.append(.literal(literal))
                        literal = ""
                    }
                    pieces.append(.macro(letter: letter, escape: letterChar.isUppercase, rightmost: rightmost, reverse: reverse, delimiters: Array(body)))
                default:
                    throw fail("bad % escape")
                }
                continue
            }
            guard let ascii = c.asciiValue, (ascii >= 0x21 && ascii <= 0x7E) || (allowSpace && ascii == 0x20) else {
                throw fail("character not allowed")
            }
            literal.append(c)
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
    }

    /// A domain-spec (§7.1): a macro-string that ends in a macro or in "." toplabel ["."].
    init(domainSpec text: String) throws(SPFRecord.SyntaxError) {
        try self.init(parsing: text, allowExplanationLetters: false)
        switch pieces.last {
        case .macro?:
            return
        case .literal(let tail)?:
            var tail = Substring(tail)
            if tail.hasSuffix(".") { tail = tail.dropLast() }
            guard let dot = tail.lastIndex(of: "."), Self.isTopLabel(tail[tail.index(after: dot)...]) else {
                throw SPFRecord.SyntaxError(description: "\"\(text)\" does not end in a top-level label")
            }
        case nil:
            throw SPFRecord.SyntaxError(description: "empty domain")
        }
    }

    /// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
    static func isTopLabel(_ s: Substring) -> Bool {
        guard let first = s.first, let last = s.last, first != "-", last != "-" else { return false }
        guard s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return false }
        return s.contains { $0.isLetter } || s.contains("-")
    }

    /// Bytes an expansion may produce (issue 12 item 1): a domain-spec is cut to 253 after it
    /// (§7.3) and an explanation is one line of text, so anything past this is an attack on
    /// memory, not a policy. Expansion stops there.
    static let maximumExpansion = 8192

    func expand(_ value: (Character) async -> String) async -> String {
        var out = ""
        for piece in pieces where out.utf8.count < Self.maximumExpansion {
            switch piece {
            case .literal(let text):
                out += text
            case .macro(let letter, let escape, let rightmost, let reverse, let delimiters):
                let raw = await value(letter)
                let separators = delimiters.isEmpty ? ["."] : delimiters
                var parts = raw.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) }).map(String.init)
                if reverse { parts.reverse() }
                if let n = rightmost, n < parts.count { parts = Array(parts.suffix(n)) }
                let joined = parts.joined(separator: ".")
                out += escape ? Self.urlEscape(joined) : joined
            }
        }
        if out.utf8.count > Self.maximumExpansion { out = String(decoding: out.utf8.prefix(Self.maximumExpansion), as: UTF8.self) }
        return out
    }

    /// §7.3: uppercase macros are URL-escaped (RFC 3986 unreserved characters stay).
    static func urlEscape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
