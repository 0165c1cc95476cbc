/// Record types Tern asks for (RFC 1035 §3.2.2, RFC 3596, RFC 6891, RFC 6698).
public enum DNSRecordType: UInt16, Hashable, Sendable {
    case a = 1
    case ns = 2
    case cname = 5
    case soa = 6
    case ptr = 12
    case mx = 15
    case txt = 16
    case aaaa = 28
    case opt = 41
    case tlsa = 52
}

/// The data of one resource record, by type.
public enum DNSRecordData: Hashable, Sendable {
    case a([UInt8])
    case aaaa([UInt8])
    case mx(preference: UInt16, exchange: DNSName)
    case txt([[UInt8]])
    case cname(DNSName)
    case ptr(DNSName)
    case ns(DNSName)
    /// Only what negative caching needs (RFC 2308 §5): the MINIMUM field.
    case soa(minimum: UInt32)
    case tlsa(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8])
    case other(type: UInt16, data: [UInt8])
}

/// One resource record (RFC 1035 §4.1.3).
public struct DNSRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: UInt16
    public var dnsClass: UInt16
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: UInt16, dnsClass: UInt16 = 1, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
        self.ttl = ttl
        self.data = data
    }
}

/// A question (RFC 1035 §4.1.2).
public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: UInt16
    public var dnsClass: UInt16

    public init(name: DNSName, type: UInt16, dnsClass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
    }
}

/// A whole DNS message (RFC 1035 §4.1).
public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    public var isResponse: Bool
    public var opcode: UInt8
    public var authoritative: Bool
    public var truncated: Bool
    public var recursionDesired: Bool
    public var recursionAvailable: Bool
    /// RCODE: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED.
    public var responseCode: UInt8
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]
    public var additional: [DNSRecord]

    public init(
        id: UInt16, isResponse: Bool = false, opcode: UInt8 = 0, authoritative: Bool = false, truncated: Bool = false,
        recursionDesired: Bool = true, recursionAvailable: Bool = false, responseCode: UInt8 = 0, questions: [DNSQuestion] = [],
        answers: [DNSRecord] = [], authority: [DNSRecord] = [], additional: [DNSRecord] = []
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.authoritative = authoritative
        self.truncated = truncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.responseCode = responseCode
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
    }

    /// A recursive query for one name and type, with an EDNS0 OPT record advertising
    /// `udpPayloadSize` (RFC 6891 §6.1.1), so answers larger than 512 octets come over UDP.
    public static func query(id: UInt16, name: DNSName, type: DNSRecordType, udpPayloadSize: UInt16 = 1232) -> DNSMessage {
        DNSMessage(
            id: id, questions: [DNSQuestion(name: name, type: type.rawValue)],
            additional: [DNSRecord(name: try! DNSName(labels: []), type: DNSRecordType.opt.rawValue, dnsClass: udpPayloadSize, ttl: 0, data: .other(type: 41, data: []))])
    }
}
