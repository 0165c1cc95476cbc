/// A domain name as DNS carries it: a sequence of labels (RFC 1035 §3.1), compared without case.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Labels without dots, as received (ASCII or punycode; bytes kept as they are).
    public let labels: [[UInt8]]

    /// RFC 1035 §2.3.4: labels of at most 63 octets, names of at most 255.
    public static let maximumLabelLength = 63
    public static let maximumLength = 255

    public init(labels: [[UInt8]]) throws(DNSError) {
        var length = 1
        for label in labels {
            guard !label.isEmpty, label.count <= Self.maximumLabelLength else { throw .invalidName }
            length += label.count + 1
        }
        guard length <= Self.maximumLength else { throw .invalidName }
        self.labels = labels
    }

    /// Parses dotted text; a trailing dot is allowed, the root is "" or ".".
    public init(_ text: String) throws(DNSError) {
        var trimmed = Substring(text)
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        if trimmed.isEmpty {
            try self.init(labels: [])
            return
        }
        try self.init(labels: trimmed.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) })
    }

    public var description: String {
        labels.isEmpty ? "." : labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
    }

    /// Whether every label is letters, digits, hyphens and underscores: a name that may be shown
    /// in a header, a DSN field or a log line and dialled as a host. DNS itself allows any byte
    /// in a label, so a hostile zone could otherwise put CR, LF or escape sequences there.
    public var isHostname: Bool {
        !labels.isEmpty
            && labels.allSatisfy { label in
                label.allSatisfy { b in
                    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
                }
            }
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        lhs.labels.count == rhs.labels.count
            && zip(lhs.labels, rhs.labels).allSatisfy { a, b in a.count == b.count && zip(a, b).allSatisfy { lower($0) == lower($1) } }
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.lower(byte)) }
        }
    }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
}
