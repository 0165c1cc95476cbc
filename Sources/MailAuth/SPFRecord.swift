/// One SPF record parsed (RFC 7208 §4.6, §12): directives in order and the two modifiers that
/// mean something. The whole record is parsed before any of it is evaluated, so a syntax error
/// anywhere is a permerror (§4.6).
struct SPFRecord: Equatable {
    enum Qualifier: Character {
        case pass = "+", fail = "-", softfail = "~", neutral = "?"

        var result: SPFResult {
            switch self {
            case .pass: return .pass
            case .fail: return .fail
            case .softfail: return .softfail
            case .neutral: return .neutral
            }
        }
    }

    enum Mechanism: Equatable {
        case all
        case include(SPFMacroString)
        case a(SPFMacroString?, ip4Prefix: Int, ip6Prefix: Int)
        case mx(SPFMacroString?, ip4Prefix: Int, ip6Prefix: Int)
        case ptr(SPFMacroString?)
        case ip4([UInt8], prefix: Int)
        case ip6([UInt8], prefix: Int)
        case exists(SPFMacroString)
    }

    struct Directive: Equatable {
        var qualifier: Qualifier
        var mechanism: Mechanism
        var text: String
    }

    var directives: [Directive] = []
    var redirect: SPFMacroString?
    var explanation: SPFMacroString?

    struct SyntaxError: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// Whether a TXT string is an SPF record at all (§4.5): "v=spf1" then a space or the end.
    static func isSPF(_ text: [UInt8]) -> Bool {
        guard text.count >= 6 else { return false }
        guard String(decoding: text.prefix(6), as: UTF8.self).lowercased() == "v=spf1" else { return false }
        return text.count == 6 || text[6] == 0x20
    }

    init(parsing bytes: [UInt8]) throws(SyntaxError) {
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw SyntaxError(description: "record holds a character outside printable ASCII") }
        let text = String(decoding: bytes, as: UTF8.self)
        let terms = text.split(separator: " ", omittingEmptySubsequences: true).dropFirst()
        for term in terms {
            try parse(term: String(term))
        }
    }

    private mutating func parse(term: String) throws(SyntaxError) {
        // A modifier: name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
        if let equals = term.firstIndex(of: "="), Self.isModifierName(term[..<equals]) {
            let name = term[..<equals].lowercased()
            let value = String(term[term.index(after: equals)...])
            switch name {
            case "redirect":
                guard redirect == nil else { throw SyntaxError(description: "two redirect= modifiers") }
                redirect = try SPFMacroString(domainSpec: value)
            case "exp":
                guard explanation == nil else { throw SyntaxError(description: "two exp= modifiers") }
                explanation = try SPFMacroString(domainSpec: value)
            default:
                // Unknown modifiers are ignored (§6), but must still be well formed.
                _ = try SPFMacroString(parsing: value, allowExplanationLetters: false)
            }
            return
        }
        var rest = Substring(term)
        var qualifier = Qualifier.pass
        if let first = rest.first, let q = Qualifier(rawValue: first) {
            qualifier = q
            rest = rest.dropFirst()
        }
        let nameEnd = rest.firstIndex(where: { $0 == ":" || $0 == "/" }) ?? rest.endIndex
        let name = rest[..<nameEnd].lowercased()
        let argument = rest[nameEnd...]
        let mechanism: Mechanism
        switch name {
        case "all":
            guard argument.isEmpty else { throw SyntaxError(description: "all takes no argument") }
            mechanism = .all
        case "include", "exists":
            guard argument.hasPrefix(":") else { throw SyntaxError(description: "\(name) needs a domain") }
            let spec = try SPFMacroString(domainSpec: String(argument.dropFirst()))
            mechanism = name == "include" ? .include(spec) : .exists(spec)
        case "a", "mx":
            var body = argument
            let (ip4, ip6) = try Self.dualCIDR(&body)
            var spec: SPFMacroString?
            if !body.isEmpty {
                guard body.hasPrefix(":") else { throw SyntaxError(description: "bad \(name) argument") }
                spec = try SPFMacroString(domainSpec: String(body.dropFirst()))
            }
            mechanism = name == "a" ? .a(spec, ip4Prefix: ip4, ip6Prefix: ip6) : .mx(spec, ip4Prefix: ip4, ip6Prefix: ip6)
        case "ptr":
            if argument.isEmpty {
                mechanism = .ptr(nil)
            } else {
                guard argument.hasPrefix(":") else { throw SyntaxError(description: "bad ptr argument") }
                mechanism = .ptr(try SPFMacroString(domainSpec: String(argument.dropFirst())))
            }
        case "ip4":
            guard argument.hasPrefix(":") else { throw SyntaxError(description: "ip4 needs an address") }
            let parts = argument.dropFirst().split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = Self.parseIPv4(parts[0]) else { throw SyntaxError(description: "bad ip4 address \(parts[0])") }
            let prefix = parts.count == 2 ? try Self.cidr(parts[1], max: 32) : 32
            mechanism = .ip4(address, prefix: prefix)
        case "ip6":
            guard argument.hasPrefix(":") else { throw SyntaxError(description: "ip6 needs an address") }
            let value = argument.dropFirst()
            let slash = value.firstIndex(of: "/")
            let addressText = slash.map { value[..<$0] } ?? value
            guard let address = NetworkAddress.parse(String(addressText)), address.count == 16 else {
                throw SyntaxError(description: "bad ip6 address \(addressText)")
            }
            var prefix = 128
            if let slash { prefix = try Self.cidr(value[value.index(after: slash)...], max: 128) }
            mechanism = .ip6(address, prefix: prefix)
        default:
            throw SyntaxError(description: "unknown mechanism \(name)")
        }
        directives.append(Directive(qualifier: qualifier, mechanism: mechanism, text: term))
    }

    static func isModifierName(_ s: Substring) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// Takes `[/ip4-len][//ip6-len]` off the end of an a or mx argument.
    static func dualCIDR(_ body: inout Substring) throws(SyntaxError) -> (Int, Int) {
        var ip4 = 32
        var ip6 = 128
        if let range = body.range(of: "//", options: .backwards) {
            let digits = body[range.upperBound...]
            if digits.allSatisfy(\.isNumber) {
                ip6 = try cidr(digits, max: 128)
                body = body[..<range.lowerBound]
            }
        }
        if let slash = body.lastIndex(of: "/") {
            let digits = body[body.index(after: slash)...]
            if digits.allSatisfy(\.isNumber) {
                ip4 = try cidr(digits, max: 32)
                body = body[..<slash]
            }
        }
        if body.hasSuffix("/") { throw SyntaxError(description: "bad CIDR length") }
        return (ip4, ip6)
    }

    /// A CIDR length: digits without a leading zero (§12: "0" / %x31-39 0*1DIGIT), at most `max`.
    static func cidr(_ text: Substring, max: Int) throws(SyntaxError) -> Int {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), text == "0" || text.first != "0", let n = Int(text), n <= max else {
            throw SyntaxError(description: "bad CIDR length /\(text)")
        }
        return n
    }

    /// Dotted quad with no leading zeros (§12 qnum).
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }), part == "0" || part.first != "0",
                let n = Int(part), n <= 255
            else { return nil }
            out.append(UInt8(n))
        }
        return out
    }
}

import Foundation
import MailCore

enum NetworkAddress {
    static func parse(_ text: String) -> [UInt8]? { NetworkRange.parseAddress(text) }

    /// Whether `a` and `b` share their first `prefix` bits.
    static func matches(_ a: [UInt8], _ b: [UInt8], prefix: Int) -> Bool {
        guard a.count == b.count else { return false }
        var remaining = prefix
        for i in 0..<a.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if a[i] & mask != b[i] & mask { return false }
            remaining -= bits
        }
        return true
    }
}
