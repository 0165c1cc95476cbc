/// What can go wrong with DNS, from a malformed packet to a server's answer.
public enum DNSError: Error, Hashable, Sendable {
    /// The packet ends before the data it announces.
    case truncatedPacket
    /// A name is too long, has an over-long label, or uses a bad label type.
    case invalidName
    /// Compression pointers loop or point forward (RFC 1035 §4.1.4 allows only earlier offsets).
    case compressionLoop
    /// Record data does not match its type's layout.
    case invalidRecordData
    /// The server answered with this RCODE (2 SERVFAIL, 5 REFUSED, …); NXDOMAIN is not an error.
    case serverFailure(UInt8)
    /// No answer from any nameserver in time.
    case timeout
    /// Not asked: the resolver has its maximum of queries outstanding, or the asking task was
    /// cancelled. A temporary failure, never cached.
    case notAsked
}
