import Foundation

/// The Public Suffix List (publicsuffix.org), which DMARC uses to find a domain's
/// organizational domain (RFC 7489 §3.2). Read from Debian's `publicsuffix` package by default.
public struct PublicSuffixList: Sendable {
    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    private var rules: Set<String> = []
    /// `*.X` rules, stored as X.
    private var wildcards: Set<String> = []
    /// `!X` rules, stored as X.
    private var exceptions: Set<String> = []

    /// Parses the list's text: one rule per line, `//` comments, rules end at whitespace.
    public init(text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            let rule = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map { $0.lowercased() } ?? ""
            if rule.isEmpty || rule.hasPrefix("//") { continue }
            if rule.hasPrefix("!") {
                exceptions.insert(String(rule.dropFirst()))
            } else if rule.hasPrefix("*.") {
                wildcards.insert(String(rule.dropFirst(2)))
            } else {
                rules.insert(rule)
            }
        }
    }

    /// How many rules the list holds; zero means the text was not a list at all.
    public var ruleCount: Int { rules.count + wildcards.count + exceptions.count }

    public init(contentsOf path: String) throws {
        self.init(text: try String(contentsOfFile: path, encoding: .utf8))
    }

    /// How many labels on the right of `labels` form the public suffix (at least one: the
    /// implicit `*` rule).
    func publicSuffixLength(_ labels: [String]) -> Int {
        var best = 1
        for n in 1...max(labels.count, 1) where n <= labels.count {
            let suffix = labels.suffix(n).joined(separator: ".")
            // An exception rule wins over every other: its suffix is one label shorter.
            if exceptions.contains(suffix) { return n - 1 }
            if rules.contains(suffix) { best = max(best, n) }
            if n >= 2, wildcards.contains(labels.suffix(n - 1).joined(separator: ".")) { best = max(best, n) }
        }
        return best
    }

    /// The public suffix plus one label: `mail.example.co.uk` → `example.co.uk`. A domain that
    /// is itself a public suffix is its own organizational domain.
    public func organizationalDomain(_ domain: String) -> String {
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let suffix = publicSuffixLength(labels)
        guard labels.count > suffix else { return name }
        return labels.suffix(suffix + 1).joined(separator: ".")
    }
}
