import NIOCore

/// The one place stored content becomes wire form: every line ending (CRLF, a bare CR, a bare
/// LF) becomes CRLF, so a bare line ending can never reach the next hop or a client (no SMTP
/// smuggling downstream); for DATA and POP3 multi-line responses a line that starts with "."
/// gets another (RFC 5321 §4.5.2, RFC 1939 §3) and the body ends with "." CRLF.
public enum DotStuffing {
    /// DATA wire form (RFC 5321 §4.5.2), appended to `out`.
    public static func encode(_ body: some Collection<UInt8>, into out: inout ByteBuffer) {
        out.reserveCapacity(minimumWritableBytes: body.count + body.count / 64 + 8)
        write(body, into: &out, stuffDots: true)
    }

    /// A dot-stuffed, terminated copy: POP3's multi-line response body (RFC 1939 §3).
    public static func stuffed(_ body: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / 64 + 5)
        write(body, into: &out, stuffDots: true)
        return out
    }

    /// Line endings only: every CR, LF or CRLF becomes CRLF, and non-empty content ends with
    /// CRLF. For BDAT chunks (RFC 3030: exact octets, no dot-stuffing) and for messages Tern
    /// builds around stored content.
    public static func crlf(_ body: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / 64 + 2)
        write(body, into: &out, stuffDots: false)
        return out
    }

    private static func write(_ body: some Collection<UInt8>, into out: inout some OctetSink, stuffDots: Bool) {
        if body.withContiguousStorageIfAvailable({ write(buffer: $0, into: &out, stuffDots: stuffDots) }) != nil { return }
        Array(body).withUnsafeBufferPointer { write(buffer: $0, into: &out, stuffDots: stuffDots) }
    }

    /// Copies runs of ordinary octets whole and handles only line ends and leading dots one by
    /// one (a byte-at-a-time loop cost a noticeable share of delivery CPU).
    private static func write(buffer body: UnsafeBufferPointer<UInt8>, into out: inout some OctetSink, stuffDots: Bool) {
        var index = 0
        var atLineStart = true
        let count = body.count
        while index < count {
            if stuffDots && atLineStart && body[index] == UInt8(ascii: ".") { out.append(octet: UInt8(ascii: ".")) }
            // The run up to the next CR or LF goes out as it is.
            var end = index
            while end < count && body[end] != 0x0D && body[end] != 0x0A { end += 1 }
            if end > index { out.append(run: UnsafeBufferPointer(rebasing: body[index..<end])) }
            guard end < count else {
                atLineStart = false
                break
            }
            // CR LF, a bare CR or a bare LF: each becomes one CRLF.
            out.append(octet: 0x0D)
            out.append(octet: 0x0A)
            index = body[end] == 0x0D && end + 1 < count && body[end + 1] == 0x0A ? end + 2 : end + 1
            atLineStart = true
        }
        if !atLineStart {
            out.append(octet: 0x0D)
            out.append(octet: 0x0A)
        }
        if stuffDots {
            out.append(octet: UInt8(ascii: "."))
            out.append(octet: 0x0D)
            out.append(octet: 0x0A)
        }
    }
}

/// Where `DotStuffing` writes: a `ByteBuffer` on the wire, an array for stored forms.
protocol OctetSink {
    mutating func append(octet: UInt8)
    mutating func append(run: UnsafeBufferPointer<UInt8>)
}

extension ByteBuffer: OctetSink {
    mutating func append(octet: UInt8) { writeInteger(octet) }
    mutating func append(run: UnsafeBufferPointer<UInt8>) { writeBytes(UnsafeRawBufferPointer(run)) }
}

extension Array: OctetSink where Element == UInt8 {
    mutating func append(octet: UInt8) { append(octet) }
    mutating func append(run: UnsafeBufferPointer<UInt8>) { append(contentsOf: run) }
}
