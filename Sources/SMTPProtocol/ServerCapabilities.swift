import MailCore

/// What a server offers in its EHLO reply (RFC 5321 §4.1.1.1): keywords and their parameters.
public struct ServerCapabilities: Hashable, Sendable {
    public var keywords: [String: [String]]

    public init(ehloReply: SMTPReply) {
        var keywords: [String: [String]] = [:]
        for line in ehloReply.lines.dropFirst() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = parts.first else { continue }
            keywords[keyword.uppercased()] = parts.dropFirst().map(String.init)
        }
        self.keywords = keywords
    }

    public func offers(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

    /// RFC 1870: the declared maximum, nil when SIZE is absent or has no (or a zero) limit.
    public var maximumSize: Int? {
        guard let value = keywords["SIZE"]?.first, let size = Int(value), size > 0 else { return nil }
        return size
    }

    public var authMechanisms: [String] { keywords["AUTH"]?.map { $0.uppercased() } ?? [] }
}
