/// DNS wire format (RFC 1035 §4): encoding of queries and answers, and a strict decoder that
/// never reads past the packet, follows only backward compression pointers, and refuses counts
/// the packet cannot hold (so a hostile packet cannot make it loop or allocate).
public enum DNSMessageCodec {
    // MARK: - Encoding (names uncompressed: always valid, and queries are small)

    public static func encode(_ message: DNSMessage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        put16(&out, message.id)
        var flags: UInt16 = 0
        if message.isResponse { flags |= 0x8000 }
        flags |= UInt16(message.opcode & 0x0F) << 11
        if message.authoritative { flags |= 0x0400 }
        if message.truncated { flags |= 0x0200 }
        if message.recursionDesired { flags |= 0x0100 }
        if message.recursionAvailable { flags |= 0x0080 }
        flags |= UInt16(message.responseCode & 0x0F)
        put16(&out, flags)
        put16(&out, UInt16(message.questions.count))
        put16(&out, UInt16(message.answers.count))
        put16(&out, UInt16(message.authority.count))
        put16(&out, UInt16(message.additional.count))
        for q in message.questions {
            putName(&out, q.name)
            put16(&out, q.type)
            put16(&out, q.dnsClass)
        }
        for record in message.answers + message.authority + message.additional {
            putName(&out, record.name)
            put16(&out, record.type)
            put16(&out, record.dnsClass)
            put32(&out, record.ttl)
            var rdata: [UInt8] = []
            switch record.data {
            case .a(let bytes), .aaaa(let bytes): rdata = bytes
            case .mx(let preference, let exchange):
                put16(&rdata, preference)
                putName(&rdata, exchange)
            case .txt(let strings):
                for s in strings {
                    rdata.append(UInt8(min(s.count, 255)))
                    rdata += s.prefix(255)
                }
            case .cname(let name), .ptr(let name), .ns(let name): putName(&rdata, name)
            case .soa(let minimum):
                putName(&rdata, try! DNSName(labels: []))
                putName(&rdata, try! DNSName(labels: []))
                for _ in 0..<4 { put32(&rdata, 0) }
                put32(&rdata, minimum)
            case .tlsa(let usage, let selector, let matchingType, let data):
                rdata = [usage, selector, matchingType] + data
            case .other(_, let data): rdata = data
            }
            put16(&out, UInt16(rdata.count))
            out += rdata
        }
        return out
    }

    static func put16(_ out: inout [UInt8], _ v: UInt16) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func put32(_ out: inout [UInt8], _ v: UInt32) { out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func putName(_ out: inout [UInt8], _ name: DNSName) {
        for label in name.labels {
            out.append(UInt8(label.count))
            out += label
        }
        out.append(0)
    }

    // MARK: - Decoding

    public static func decode(_ bytes: [UInt8]) throws(DNSError) -> DNSMessage {
        var r = Reader(bytes: bytes)
        let id = try r.u16()
        let flags = try r.u16()
        let counts = [try r.u16(), try r.u16(), try r.u16(), try r.u16()]
        // A question takes at least 5 octets and a record at least 11: refuse impossible counts
        // before allocating anything for them.
        let minimum = Int(counts[0]) * 5 + (Int(counts[1]) + Int(counts[2]) + Int(counts[3])) * 11
        guard minimum <= bytes.count - r.offset else { throw .truncatedPacket }
        var message = DNSMessage(
            id: id, isResponse: flags & 0x8000 != 0, opcode: UInt8(flags >> 11 & 0x0F), authoritative: flags & 0x0400 != 0,
            truncated: flags & 0x0200 != 0, recursionDesired: flags & 0x0100 != 0, recursionAvailable: flags & 0x0080 != 0,
            responseCode: UInt8(flags & 0x0F))
        for _ in 0..<counts[0] {
            let name = try r.name()
            message.questions.append(DNSQuestion(name: name, type: try r.u16(), dnsClass: try r.u16()))
        }
        for _ in 0..<counts[1] { message.answers.append(try r.record()) }
        for _ in 0..<counts[2] { message.authority.append(try r.record()) }
        for _ in 0..<counts[3] { message.additional.append(try r.record()) }
        return message
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u8() throws(DNSError) -> UInt8 {
            guard offset < bytes.count else { throw .truncatedPacket }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws(DNSError) -> UInt16 {
            UInt16(try u8()) << 8 | UInt16(try u8())
        }

        mutating func u32() throws(DNSError) -> UInt32 {
            UInt32(try u16()) << 16 | UInt32(try u16())
        }

        mutating func take(_ n: Int) throws(DNSError) -> [UInt8] {
            guard n >= 0, offset + n <= bytes.count else { throw .truncatedPacket }
            defer { offset += n }
            return Array(bytes[offset..<(offset + n)])
        }

        /// A possibly compressed name (RFC 1035 §4.1.4). Each pointer must point strictly before
        /// the place it was read from, so following pointers always moves backwards and ends.
        mutating func name() throws(DNSError) -> DNSName {
            var labels: [[UInt8]] = []
            var position = offset
            var resumeAt: Int? = nil
            var length = 1
            while true {
                guard position < bytes.count else { throw .truncatedPacket }
                let byte = bytes[position]
                switch byte & 0xC0 {
                case 0x00:
                    if byte == 0 {
                        offset = resumeAt ?? position + 1
                        return try DNSName(labels: labels)
                    }
                    let count = Int(byte)
                    guard position + 1 + count <= bytes.count else { throw .truncatedPacket }
                    length += count + 1
                    guard length <= DNSName.maximumLength else { throw .invalidName }
                    labels.append(Array(bytes[(position + 1)...(position + count)]))
                    position += 1 + count
                case 0xC0:
                    guard position + 1 < bytes.count else { throw .truncatedPacket }
                    let target = Int(byte & 0x3F) << 8 | Int(bytes[position + 1])
                    guard target < position else { throw .compressionLoop }
                    if resumeAt == nil { resumeAt = position + 2 }
                    position = target
                default:
                    throw .invalidName  // 0x40 and 0x80 label types are not in use
                }
            }
        }

        mutating func record() throws(DNSError) -> DNSRecord {
            let owner = try name()
            let type = try u16()
            let dnsClass = try u16()
            let ttl = try u32()
            let length = Int(try u16())
            let start = offset
            guard start + length <= bytes.count else { throw .truncatedPacket }
            let end = start + length
            let data: DNSRecordData
            switch DNSRecordType(rawValue: type) {
            case .a:
                guard length == 4 else { throw .invalidRecordData }
                data = .a(try take(4))
            case .aaaa:
                guard length == 16 else { throw .invalidRecordData }
                data = .aaaa(try take(16))
            case .mx:
                let preference = try u16()
                data = .mx(preference: preference, exchange: try name())
            case .cname: data = .cname(try name())
            case .ptr: data = .ptr(try name())
            case .ns: data = .ns(try name())
            case .txt:
                var strings: [[UInt8]] = []
                while offset < end {
                    let count = Int(try u8())
                    guard offset + count <= end else { throw .invalidRecordData }
                    strings.append(try take(count))
                }
                data = .txt(strings)
            case .soa:
                _ = try name()
                _ = try name()
                for _ in 0..<4 { _ = try u32() }
                data = .soa(minimum: try u32())
            case .tlsa:
                guard length >= 3 else { throw .invalidRecordData }
                let fields = try take(3)
                data = .tlsa(usage: fields[0], selector: fields[1], matchingType: fields[2], data: try take(length - 3))
            case .opt, .none:
                data = .other(type: type, data: try take(length))
            }
            // The data must fill its declared length exactly.
            guard offset == end else { throw .invalidRecordData }
            return DNSRecord(name: owner, type: type, dnsClass: dnsClass, ttl: ttl, data: data)
        }
    }
}
