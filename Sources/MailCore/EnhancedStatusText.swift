/// The enhanced status code (RFC 3463 §2) at the start of a reply's text, read from a stored
/// reply line such as `550 5.1.1 No such user`.
public struct EnhancedStatusText: Hashable, Sendable, CustomStringConvertible {
    public var statusClass: Int
    public var subject: Int
    public var detail: Int

    /// nil when the line has no enhanced status after its code.
    public init?(reply: String) {
        let words = reply.split(separator: " ", maxSplits: 2)
        guard words.count >= 2 else { return nil }
        let parts = words[1].split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let statusClass = Int(parts[0]), [2, 4, 5].contains(statusClass), let subject = Int(parts[1]), let detail = Int(parts[2])
        else { return nil }
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }
}
