import Synchronization

/// A nameserver to ask: address and port (a test DNS server listens on a loopback high port).
public struct DNSServerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 53) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The `nameserver` lines of a resolv.conf text (resolv.conf(5)); other lines are ignored.
    public static func fromResolvConf(_ text: String) -> [DNSServerAddress] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            var host = String(fields[1])
            if let percent = host.firstIndex(of: "%") { host = String(host[..<percent]) }  // zone index
            return DNSServerAddress(host: host)
        }
    }
}

/// Sends one query to one server and returns the raw response. The NIO edge implements it; tests
/// use a fake. `overTCP` is used after a truncated UDP answer (RFC 7766 §5).
public protocol DNSTransport: Sendable {
    func exchange(_ query: [UInt8], with server: DNSServerAddress, overTCP: Bool, timeout: Duration) async throws(DNSError) -> [UInt8]
}

/// A stub resolver: asks the configured recursive nameservers in turn, retries, falls back to TCP
/// on truncation, and caches answers for their TTL and negative answers for the SOA minimum
/// (RFC 2308 §5), capped so a hostile TTL cannot pin an answer for long.
public final class StubResolver: DNSResolver {
    private struct CacheKey: Hashable {
        var name: DNSName
        var type: UInt16
    }

    private struct CacheEntry {
        var answer: Result<DNSAnswer, DNSError>
        var expires: UInt64
    }

    public let nameservers: [DNSServerAddress]
    private let transport: any DNSTransport
    public let timeout: Duration
    public let attempts: Int
    /// Monotonic nanoseconds; injected so cache expiry is tested without sleeping.
    private let now: @Sendable () -> UInt64
    private let cache = Mutex<[CacheKey: CacheEntry]>([:])
    /// Queries on the wire now, across every caller (issue 12 item 2): a flood of SPF work
    /// from many clients cannot open unbounded sockets; past the cap a lookup fails at once as
    /// a temporary error (SPF temperror, a deferred delivery), which the caller retries later.
    private let outstanding = Mutex(0)
    public static let maximumOutstanding = 500
    static let maximumTTL: UInt32 = 86400
    static let negativeTTLWithoutSOA: UInt32 = 60
    static let cacheCapacity = 10_000
    /// How long a name whose every server failed or timed out keeps failing without asking
    /// again (RFC 2308 §7 allows up to 5 minutes). Without it, a dead resolver costs every
    /// message on the MX the full timeout of each of its SPF, DKIM and DMARC lookups.
    static let failureTTL: UInt32 = 30

    public init(
        nameservers: [DNSServerAddress], transport: any DNSTransport, timeout: Duration = .seconds(2), attempts: Int = 2,
        now: @escaping @Sendable () -> UInt64 = { DispatchTimeSource.uptimeNanoseconds() }
    ) {
        self.nameservers = nameservers
        self.transport = transport
        self.timeout = timeout
        self.attempts = attempts
        self.now = now
    }

    /// Queries on the wire now (for tests and metrics).
    public var outstandingQueries: Int { outstanding.withLock { $0 } }

    public func query(_ name: DNSName, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
        let key = CacheKey(name: name, type: type.rawValue)
        let current = now()
        if let hit = cache.withLock({ $0[key] }), hit.expires > current { return try hit.answer.get() }
        // Work for a reset transaction or a closed connection stops here.
        if Task.isCancelled { throw .notAsked }
        let admitted = outstanding.withLock { count -> Bool in
            guard count < Self.maximumOutstanding else { return false }
            count += 1
            return true
        }
        guard admitted else { throw .notAsked }
        defer { outstanding.withLock { $0 -= 1 } }
        var lastError = DNSError.timeout
        for _ in 0..<max(attempts, 1) {
            for server in nameservers {
                if Task.isCancelled { throw .notAsked }
                do {
                    let (answer, ttl) = try await ask(server, name: name, type: type)
                    store(key, answer: answer, ttl: ttl)
                    return answer
                } catch {
                    lastError = error
                }
            }
        }
        if !nameservers.isEmpty { store(key, result: .failure(lastError), ttl: Self.failureTTL) }
        throw lastError
    }

    private func ask(_ server: DNSServerAddress, name: DNSName, type: DNSRecordType) async throws(DNSError) -> (DNSAnswer, UInt32) {
        var generator = SystemRandomNumberGenerator()
        let id = UInt16.random(in: 0...UInt16.max, using: &generator)  // RFC 5452: unpredictable ids
        let query = DNSMessageCodec.encode(.query(id: id, name: name, type: type))
        var response = try DNSMessageCodec.decode(try await transport.exchange(query, with: server, overTCP: false, timeout: timeout))
        if response.truncated {
            response = try DNSMessageCodec.decode(try await transport.exchange(query, with: server, overTCP: true, timeout: timeout))
        }
        // An answer must be to our question: same id, same name and type (RFC 5452 §9.1).
        guard response.isResponse, response.id == id,
            response.questions.count == 1, response.questions[0].name == name, response.questions[0].type == type.rawValue
        else { throw .invalidRecordData }
        switch response.responseCode {
        case 0:
            let records = Self.follow(name, type: type.rawValue, in: response.answers)
            if records.isEmpty { return (DNSAnswer(records: []), Self.negativeTTL(response)) }
            return (DNSAnswer(records: records), records.map(\.ttl).min() ?? 0)
        case 3:
            return (DNSAnswer(records: [], nameDoesNotExist: true), Self.negativeTTL(response))
        default:
            throw .serverFailure(response.responseCode)
        }
    }

    /// The records of `type` at the end of the CNAME chain that starts at `name`.
    static func follow(_ name: DNSName, type: UInt16, in answers: [DNSRecord]) -> [DNSRecord] {
        var current = name
        for _ in 0..<8 {
            let here = answers.filter { $0.name == current }
            let matching = here.filter { $0.type == type }
            if !matching.isEmpty { return matching }
            guard let cname = here.first(where: { $0.type == DNSRecordType.cname.rawValue }), case .cname(let target) = cname.data else {
                return []
            }
            current = target
        }
        return []
    }

    /// RFC 2308 §5: the negative TTL is the SOA's MINIMUM, capped by the SOA record's own TTL.
    static func negativeTTL(_ response: DNSMessage) -> UInt32 {
        for record in response.authority {
            if case .soa(let minimum) = record.data { return min(minimum, record.ttl) }
        }
        return negativeTTLWithoutSOA
    }

    private func store(_ key: CacheKey, answer: DNSAnswer, ttl: UInt32) {
        store(key, result: .success(answer), ttl: ttl)
    }

    private func store(_ key: CacheKey, result: Result<DNSAnswer, DNSError>, ttl: UInt32) {
        guard ttl > 0 else { return }
        let expires = now() + UInt64(min(ttl, Self.maximumTTL)) * 1_000_000_000
        cache.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = CacheEntry(answer: result, expires: expires)
        }
    }
}

/// Monotonic time without Foundation or NIO.
public enum DispatchTimeSource {
    public static func uptimeNanoseconds() -> UInt64 {
        let instant = ContinuousClock.now
        let (seconds, attoseconds) = (instant - ContinuousClock.Instant.epoch).components
        return UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
    }
}

extension ContinuousClock.Instant {
    fileprivate static let epoch = ContinuousClock.now
}
