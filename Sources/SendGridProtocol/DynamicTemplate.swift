/// A dynamic template's text compiled for rendering with Handlebars semantics, the subset
/// SendGrid documents for dynamic templates: `{{path}}` (HTML-escaped), `{{{path}}}` (raw),
/// `{{#if}}`/`{{else}}`, `{{#unless}}`, `{{#each}}` (with `this`, `@index`, `@first`, `@last`
/// and `../`), `{{#equals a b}}`, and comments. Parsing is one pass over the text and every
/// limit (length, nesting, output) is checked, so no template can make rendering unbounded.
public struct DynamicTemplate: Sendable, Equatable {
    public struct Limits: Sendable, Equatable {
        public var maximumLength: Int
        public var maximumDepth: Int
        /// Rendering stops with an error past this many bytes (an `each` over a large array
        /// inside another `each` must not grow without bound).
        public var maximumOutput: Int

        public init(maximumLength: Int = 1 << 20, maximumDepth: Int = 32, maximumOutput: Int = 8 << 20) {
            self.maximumLength = maximumLength
            self.maximumDepth = maximumDepth
            self.maximumOutput = maximumOutput
        }
    }

    /// What is wrong, and on which line of the template (1-based).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { "line \(line): \(message)" }
    }

    /// A value named in a tag: a path into the data, or a literal (`equals` compares with them).
    public enum Operand: Sendable, Equatable {
        case path(Path)
        case literal(JSONValue)
    }

    /// `a.b.0.c`, `this`, `this.a`, `@index`, `../a`.
    public struct Path: Sendable, Equatable {
        /// How many contexts up (`../`).
        public var up: Int
        public var segments: [String]
        /// `@index`, `@first`, `@last`: a variable of the innermost `each`.
        public var variable: String?
    }

    indirect enum Node: Sendable, Equatable {
        case text(String)
        case value(Path, escaped: Bool, line: Int)
        case ifBlock(Operand, negated: Bool, then: [Node], otherwise: [Node])
        case each(Path, body: [Node], otherwise: [Node], line: Int)
        case equals(Operand, Operand, then: [Node], otherwise: [Node])
    }

    let nodes: [Node]
    public let limits: Limits

    public init(_ text: String, limits: Limits = Limits()) throws(Failure) {
        guard text.utf8.count <= limits.maximumLength else {
            throw Failure(line: 1, message: "template is longer than \(limits.maximumLength) bytes")
        }
        self.limits = limits
        var parser = DynamicTemplateParser(text: text, maximumDepth: limits.maximumDepth)
        nodes = try parser.parseAll()
    }
}

/// Splits a template into text and tags and builds the block tree. Lines are counted as the
/// text is passed, for error messages.
struct DynamicTemplateParser {
    typealias Node = DynamicTemplate.Node
    typealias Failure = DynamicTemplate.Failure

    let bytes: [UInt8]
    let maximumDepth: Int
    var index = 0
    var line = 1

    init(text: String, maximumDepth: Int) {
        bytes = Array(text.utf8)
        self.maximumDepth = maximumDepth
    }

    /// A tag as read: its kind, its words, the line it starts on.
    struct Tag {
        enum Kind { case value, raw, open, close, elseTag, comment }
        var kind: Kind
        var words: [String]
        var line: Int
    }

    /// One block's content, ended by a closing tag, `{{else}}`, or the end of the text.
    enum End {
        case close(name: String, line: Int)
        case elseTag(words: [String], line: Int)
        case endOfText
    }

    mutating func parseAll() throws(Failure) -> [Node] {
        let (nodes, end) = try parseBlock(depth: 0)
        switch end {
        case .endOfText: return nodes
        case .close(let name, let line): throw Failure(line: line, message: "{{/\(name)}} closes a block that was never opened")
        case .elseTag(_, let line): throw Failure(line: line, message: "{{else}} outside a block")
        }
    }

    mutating func parseBlock(depth: Int) throws(Failure) -> ([Node], End) {
        var nodes: [Node] = []
        var text: [UInt8] = []
        func flushText() {
            if !text.isEmpty { nodes.append(.text(String(decoding: text, as: UTF8.self))) }
            text.removeAll()
        }
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "{"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "{") else {
                if bytes[index] == 0x0A { line += 1 }
                text.append(bytes[index])
                index += 1
                continue
            }
            flushText()
            let tag = try readTag()
            switch tag.kind {
            case .comment: continue
            case .value, .raw:
                guard tag.words.count == 1 else {
                    throw Failure(line: tag.line, message: "unknown helper \"\(tag.words[0])\"")
                }
                nodes.append(.value(try path(tag.words[0], line: tag.line), escaped: tag.kind == .value, line: tag.line))
            case .close:
                return (nodes, .close(name: tag.words.first ?? "", line: tag.line))
            case .elseTag:
                return (nodes, .elseTag(words: Array(tag.words.dropFirst()), line: tag.line))
            case .open:
                guard depth < maximumDepth else { throw Failure(line: tag.line, message: "blocks nested deeper than \(maximumDepth)") }
                nodes.append(try parseOpenBlock(tag, closing: tag.words[0], depth: depth + 1))
            }
        }
        flushText()
        return (nodes, .endOfText)
    }

    /// `{{#name args}} … [{{else}} …] {{/name}}`. `{{else if x}}` (or unless, equals) chains
    /// become a block nested in the `else` branch that ends at the outer block's closing tag,
    /// named by `closing`.
    mutating func parseOpenBlock(_ tag: Tag, closing: String, depth: Int) throws(Failure) -> Node {
        let (body, end) = try parseBlock(depth: depth)
        var otherwise: [Node] = []
        func checkClose(_ name: String, _ line: Int) throws(Failure) {
            guard name == closing else { throw Failure(line: line, message: "{{/\(name)}} does not close {{#\(closing)}}") }
        }
        switch end {
        case .endOfText:
            throw Failure(line: tag.line, message: "{{#\(closing)}} is never closed")
        case .close(let name, let line):
            try checkClose(name, line)
        case .elseTag(let words, let line):
            if words.isEmpty {
                let (rest, restEnd) = try parseBlock(depth: depth)
                switch restEnd {
                case .close(let name, let closeLine): try checkClose(name, closeLine)
                case .elseTag(_, let elseLine): throw Failure(line: elseLine, message: "a second {{else}} in {{#\(closing)}}")
                case .endOfText: throw Failure(line: tag.line, message: "{{#\(closing)}} is never closed")
                }
                otherwise = rest
            } else {
                guard depth < maximumDepth else { throw Failure(line: line, message: "blocks nested deeper than \(maximumDepth)") }
                otherwise = [try parseOpenBlock(Tag(kind: .open, words: words, line: line), closing: closing, depth: depth + 1)]
            }
        }
        return try block(tag.words[0], Array(tag.words.dropFirst()), body: body, otherwise: otherwise, line: tag.line)
    }

    func block(_ name: String, _ arguments: [String], body: [Node], otherwise: [Node], line: Int) throws(Failure) -> Node {
        switch name {
        case "if", "unless":
            guard arguments.count == 1 else { throw Failure(line: line, message: "{{#\(name)}} takes one argument") }
            return .ifBlock(try operand(arguments[0], line: line), negated: name == "unless", then: body, otherwise: otherwise)
        case "each":
            guard arguments.count == 1 else { throw Failure(line: line, message: "{{#each}} takes one argument") }
            return .each(try path(arguments[0], line: line), body: body, otherwise: otherwise, line: line)
        case "equals":
            guard arguments.count == 2 else { throw Failure(line: line, message: "{{#equals}} takes two arguments") }
            return .equals(try operand(arguments[0], line: line), try operand(arguments[1], line: line), then: body, otherwise: otherwise)
        default:
            throw Failure(line: line, message: "unknown block helper \"\(name)\"")
        }
    }

    /// Reads `{{…}}`, `{{{…}}}`, `{{#…}}`, `{{/…}}`, `{{else}}`, `{{!…}}`, `{{!--…--}}` at `index`.
    mutating func readTag() throws(Failure) -> Tag {
        let start = line
        index += 2
        if index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "!"), bytes[index + 1] == UInt8(ascii: "-"),
            index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "-")
        {
            // `{{!-- … --}}` may contain `}}`.
            index += 3
            try skip(until: Array("--}}".utf8), from: start)
            return Tag(kind: .comment, words: [], line: start)
        }
        var raw = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
            raw = true
            index += 1
        }
        let contentStart = index
        let closing: [UInt8] = raw ? Array("}}}".utf8) : Array("}}".utf8)
        try skip(until: closing, from: start)
        let content = Array(bytes[contentStart..<(index - closing.count)])
        var inner = String(decoding: content, as: UTF8.self)
        // `{{~ … ~}}` whitespace control is accepted and ignored.
        inner = inner.trimmingWhitespace().dropPrefix("~").dropSuffix("~").trimmingWhitespace()
        if raw {
            let words = try Self.words(inner, line: start)
            guard !words.isEmpty else { throw Failure(line: start, message: "empty {{{ }}}") }
            return Tag(kind: .raw, words: words, line: start)
        }
        guard let first = inner.first else { throw Failure(line: start, message: "empty {{ }}") }
        switch first {
        case "!": return Tag(kind: .comment, words: [], line: start)
        case "#":
            let words = try Self.words(String(inner.dropFirst()), line: start)
            guard !words.isEmpty else { throw Failure(line: start, message: "a block needs a helper name") }
            return Tag(kind: .open, words: words, line: start)
        case "/":
            let words = try Self.words(String(inner.dropFirst()), line: start)
            guard words.count == 1 else { throw Failure(line: start, message: "a closing tag names one block") }
            return Tag(kind: .close, words: words, line: start)
        default:
            let words = try Self.words(inner, line: start)
            if words.first == "else" { return Tag(kind: .elseTag, words: words, line: start) }
            return Tag(kind: .value, words: words, line: start)
        }
    }

    /// Moves `index` past the next `terminator`, counting lines.
    mutating func skip(until terminator: [UInt8], from start: Int) throws(Failure) {
        while index < bytes.count {
            if bytes[index] == terminator[0], index + terminator.count <= bytes.count, bytes[index..<(index + terminator.count)].elementsEqual(terminator) {
                index += terminator.count
                return
            }
            if bytes[index] == 0x0A { line += 1 }
            index += 1
        }
        throw Failure(line: start, message: "\"{{\" is never closed")
    }

    /// Words split at spaces; a quoted string is one word (kept with its quotes).
    static func words(_ text: String, line: Int) throws(Failure) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        for character in text {
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                current.append(character)
                quote = character
            } else if character == " " || character == "\t" || character == "\r" || character == "\n" {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        guard quote == nil else { throw Failure(line: line, message: "unterminated string") }
        if !current.isEmpty { words.append(current) }
        return words
    }

    func operand(_ word: String, line: Int) throws(Failure) -> DynamicTemplate.Operand {
        if let first = word.first, first == "\"" || first == "'" {
            return .literal(.string(String(word.dropFirst().dropLast())))
        }
        if let number = Int(word) { return .literal(.int(number)) }
        if let number = Double(word), word.contains(".") { return .literal(.double(number)) }
        switch word {
        case "true": return .literal(.bool(true))
        case "false": return .literal(.bool(false))
        case "null", "undefined": return .literal(.null)
        default: return .path(try path(word, line: line))
        }
    }

    func path(_ word: String, line: Int) throws(Failure) -> DynamicTemplate.Path {
        var rest = Substring(word)
        var up = 0
        while rest.hasPrefix("../") {
            up += 1
            rest = rest.dropFirst(3)
        }
        if rest.hasPrefix("@") {
            let name = String(rest.dropFirst())
            guard ["index", "first", "last", "key"].contains(name) else { throw Failure(line: line, message: "unknown variable @\(name)") }
            return DynamicTemplate.Path(up: up, segments: [], variable: name)
        }
        guard !rest.isEmpty else { throw Failure(line: line, message: "empty path") }
        var segments: [String] = []
        for part in rest.split(separator: ".", omittingEmptySubsequences: false) {
            var segment = String(part)
            // `[0]` and `[name with spaces]` literal segments.
            if segment.hasPrefix("["), segment.hasSuffix("]"), segment.count >= 2 { segment = String(segment.dropFirst().dropLast()) }
            guard !segment.isEmpty else { throw Failure(line: line, message: "invalid path \"\(word)\"") }
            segments.append(segment)
        }
        if segments.first == "this" { segments.removeFirst() }
        return DynamicTemplate.Path(up: up, segments: segments, variable: nil)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }

    fileprivate func dropPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }

    fileprivate func dropSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
