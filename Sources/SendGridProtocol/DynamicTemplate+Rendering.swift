import MailCore

extension DynamicTemplate {
    /// Renders with `data` (a personalization's `dynamic_template_data`). A missing value
    /// renders empty, as Handlebars does; only output past `limits.maximumOutput` fails.
    public func render(_ data: JSONValue) throws(Failure) -> String {
        var renderer = DynamicTemplateRenderer(root: data, maximumOutput: limits.maximumOutput)
        try renderer.render(nodes)
        return String(decoding: renderer.out, as: UTF8.self)
    }
}

/// Walks the block tree over a stack of contexts (the data, then one per `each` iteration).
struct DynamicTemplateRenderer {
    typealias Node = DynamicTemplate.Node

    struct Frame {
        var value: JSONValue
        var index: Int?
        var count: Int?
        var key: String?
    }

    var stack: [Frame]
    var out: [UInt8] = []
    let maximumOutput: Int
    /// The line of the last tag rendered, for the output-limit error.
    var line = 1

    init(root: JSONValue, maximumOutput: Int) {
        stack = [Frame(value: root)]
        self.maximumOutput = maximumOutput
    }

    mutating func render(_ nodes: [Node]) throws(DynamicTemplate.Failure) {
        for node in nodes {
            switch node {
            case .text(let text):
                try emit(text)
            case .value(let path, let escaped, let line):
                self.line = line
                let text = Self.text(of: resolve(path))
                try emit(escaped ? Self.escapeHTML(text) : text)
            case .ifBlock(let operand, let negated, let then, let otherwise):
                try render(Self.isTruthy(value(of: operand)) != negated ? then : otherwise)
            case .equals(let a, let b, let then, let otherwise):
                try render(Self.areEqual(value(of: a), value(of: b)) ? then : otherwise)
            case .each(let path, let body, let otherwise, let line):
                self.line = line
                switch resolve(path) {
                case .array(let items) where !items.isEmpty:
                    for (index, item) in items.enumerated() {
                        stack.append(Frame(value: item, index: index, count: items.count))
                        defer { stack.removeLast() }
                        try render(body)
                    }
                case .object(let members) where !members.isEmpty:
                    // JSON objects carry no order here; keys go in sorted order, so output is stable.
                    let keys = members.keys.sorted()
                    for (index, key) in keys.enumerated() {
                        stack.append(Frame(value: members[key]!, index: index, count: keys.count, key: key))
                        defer { stack.removeLast() }
                        try render(body)
                    }
                default:
                    try render(otherwise)
                }
            }
        }
    }

    mutating func emit(_ text: String) throws(DynamicTemplate.Failure) {
        out.append(contentsOf: text.utf8)
        guard out.count <= maximumOutput else {
            throw DynamicTemplate.Failure(line: line, message: "rendered output is larger than \(maximumOutput) bytes")
        }
    }

    func value(of operand: DynamicTemplate.Operand) -> JSONValue? {
        switch operand {
        case .literal(let value): return value
        case .path(let path): return resolve(path)
        }
    }

    /// The value a path names, or nil (missing).
    func resolve(_ path: DynamicTemplate.Path) -> JSONValue? {
        guard path.up < stack.count else { return nil }
        let frame = stack[stack.count - 1 - path.up]
        if let variable = path.variable {
            switch variable {
            case "index": return frame.index.map { .int($0) }
            case "first": return frame.index.map { .bool($0 == 0) }
            case "last": return frame.index.map { .bool($0 == (frame.count ?? 0) - 1) }
            case "key": return frame.key.map { .string($0) }
            default: return nil
            }
        }
        var current = frame.value
        for segment in path.segments {
            switch current {
            case .object(let members):
                guard let next = members[segment] else { return nil }
                current = next
            case .array(let items):
                if segment == "length" {
                    current = .int(items.count)
                } else {
                    guard let index = Int(segment), items.indices.contains(index) else { return nil }
                    current = items[index]
                }
            case .string(let text) where segment == "length":
                current = .int(text.count)
            default:
                return nil
            }
        }
        return current
    }

    /// Handlebars' falsy values: missing, null, false, "", 0 and the empty array.
    static func isTruthy(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        case .string(let text)?: return !text.isEmpty
        case .int(let number)?: return number != 0
        case .double(let number)?: return number != 0 && !number.isNaN
        case .array(let items)?: return !items.isEmpty
        case .object?: return true
        }
    }

    /// Numbers compare by value (`1` equals `1.0`); a number and a string by their text, as
    /// JavaScript's `==` would; anything else must be the same value.
    static func areEqual(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (.int(let x)?, .double(let y)?): return Double(x) == y
        case (.double(let x)?, .int(let y)?): return x == Double(y)
        case (.string(let s)?, .int?), (.string(let s)?, .double?): return s == text(of: b)
        case (.int?, .string(let s)?), (.double?, .string(let s)?): return text(of: a) == s
        case (nil, .null?), (.null?, nil): return true
        default: return a == b
        }
    }

    /// How a value prints: JavaScript's string conversion (integral doubles without ".0",
    /// arrays comma-joined, objects as `[object Object]`, missing and null as nothing).
    static func text(of value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .int(let number)?: return String(number)
        case .double(let number)?:
            if number.rounded() == number, abs(number) < 1e15 { return String(Int(number)) }
            return String(number)
        case .bool(let flag)?: return flag ? "true" : "false"
        case .array(let items)?: return items.map { text(of: $0) }.joined(separator: ",")
        case .object?: return "[object Object]"
        }
    }

    /// Handlebars' escaping: `& < > " ' ` =`.
    static func escapeHTML(_ text: String) -> String { HTMLText.escaped(text, handlebars: true) }
}
