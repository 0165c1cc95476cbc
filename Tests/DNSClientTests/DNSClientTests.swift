import Testing

@testable import DNSClient

private func name(_ s: String) -> DNSName { try! DNSName(s) }

@Suite struct DNSNameTests {
    @Test func parsingAndComparison() throws {
        #expect(name("Mail.Example.COM.") == name("mail.example.com"))
        #expect(name("mail.example.com").description == "mail.example.com")
        #expect(name(".").labels.isEmpty)
        #expect(throws: DNSError.invalidName) { try DNSName("a..b") }
        #expect(throws: DNSError.invalidName) { try DNSName(String(repeating: "x", count: 64) + ".com") }
        let long = Array(repeating: String(repeating: "y", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DNSError.invalidName) { try DNSName(long) }  // 4*64+1 > 255
        #expect(name("a.b.example.com").isSubdomain(of: name("example.com")))
        #expect(!name("example.com").isSubdomain(of: name("a.example.com")))
    }
}

@Suite struct DNSCodecTests {
    @Test func queryRoundTrip() throws {
        let query = DNSMessage.query(id: 0xBEEF, name: name("example.test"), type: .mx)
        let bytes = DNSMessageCodec.encode(query)
        #expect(bytes.count == 12 + 14 + 4 + 11)
        let decoded = try DNSMessageCodec.decode(bytes)
        #expect(decoded == query)
        #expect(decoded.additional.first?.dnsClass == 1232)  // EDNS0 payload size
    }

    @Test func answerRoundTripEveryType() throws {
        let records = [
            DNSRecord(name: name("example.test"), type: 15, ttl: 300, data: .mx(preference: 10, exchange: name("mx1.example.test"))),
            DNSRecord(name: name("mx1.example.test"), type: 1, ttl: 60, data: .a([192, 0, 2, 1])),
            DNSRecord(name: name("mx1.example.test"), type: 28, ttl: 60, data: .aaaa([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])),
            DNSRecord(name: name("example.test"), type: 16, ttl: 60, data: .txt([Array("v=spf1 ".utf8), Array("-all".utf8)])),
            DNSRecord(name: name("www.example.test"), type: 5, ttl: 60, data: .cname(name("example.test"))),
            DNSRecord(name: name("1.2.0.192.in-addr.arpa"), type: 12, ttl: 60, data: .ptr(name("mx1.example.test"))),
            DNSRecord(name: name("_25._tcp.mx1.example.test"), type: 52, ttl: 60, data: .tlsa(usage: 3, selector: 1, matchingType: 1, data: [1, 2, 3])),
            DNSRecord(name: name("example.test"), type: 6, ttl: 60, data: .soa(minimum: 900)),
            DNSRecord(name: name("example.test"), type: 99, ttl: 60, data: .other(type: 99, data: [9, 9])),
        ]
        let message = DNSMessage(id: 7, isResponse: true, authoritative: true, responseCode: 0, answers: records)
        #expect(try DNSMessageCodec.decode(DNSMessageCodec.encode(message)) == message)
    }

    /// A response using compression pointers, written by hand as a server would send it.
    @Test func compressedNames() throws {
        var packet: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        packet += [7] + Array("example".utf8) + [4] + Array("test".utf8) + [0]  // offset 12
        packet += [0, 15, 0, 1]
        packet += [0xC0, 12, 0, 15, 0, 1, 0, 0, 0x0E, 0x10, 0, 8, 0, 10, 3] + Array("mx1".utf8) + [0xC0, 12]
        let message = try DNSMessageCodec.decode(packet)
        #expect(message.answers.first?.data == .mx(preference: 10, exchange: name("mx1.example.test")))
        #expect(message.answers.first?.ttl == 3600)
        #expect(message.recursionAvailable && message.isResponse)
    }

    @Test func compressionLoopsAreRefused() {
        // A pointer to itself, and one pointing forward.
        var selfLoop: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
        selfLoop += [0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSError.compressionLoop) { try DNSMessageCodec.decode(selfLoop) }
        var forward: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
        forward += [0xC0, 20, 0, 1, 0, 1, 0, 0, 0, 0]
        #expect(throws: DNSError.compressionLoop) { try DNSMessageCodec.decode(forward) }
    }

    @Test func hugeCountsAndTruncation() {
        // 65535 answers announced in a 12-byte packet: refused before allocating.
        #expect(throws: DNSError.truncatedPacket) { try DNSMessageCodec.decode([0, 1, 0x81, 0x80, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0]) }
        #expect(throws: DNSError.truncatedPacket) { try DNSMessageCodec.decode([0, 1, 0x81]) }
        let full = DNSMessageCodec.encode(
            DNSMessage(id: 1, isResponse: true, answers: [DNSRecord(name: name("a.test"), type: 1, ttl: 1, data: .a([1, 2, 3, 4]))]))
        for cut in 12..<full.count {
            #expect(throws: DNSError.self) { try DNSMessageCodec.decode(Array(full.prefix(cut))) }
        }
    }

    @Test func recordDataMustMatchItsLength() {
        var packet: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0]
        packet += [1, 0x61, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4, 5]  // A record with 5 octets
        #expect(throws: DNSError.invalidRecordData) { try DNSMessageCodec.decode(packet) }
        var txt: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0]
        txt += [1, 0x61, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 3, 5, 0x61, 0x62]  // string longer than rdata
        #expect(throws: DNSError.invalidRecordData) { try DNSMessageCodec.decode(txt) }
    }

    /// Property: random bytes never crash the decoder, and what decodes re-encodes to something
    /// that decodes to the same message.
    @Test func randomPacketsNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let seed = DNSMessageCodec.encode(
            DNSMessage(id: 1, isResponse: true, answers: [DNSRecord(name: name("mx.a.test"), type: 15, ttl: 1, data: .mx(preference: 1, exchange: name("b.test")))]))
        for _ in 0..<20_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng))) }
            if let message = try? DNSMessageCodec.decode(bytes) {
                #expect((try? DNSMessageCodec.decode(DNSMessageCodec.encode(message))) == message)
            }
        }
    }
}

@Suite struct MXRoutingTests {
    @Test func preferenceOrderWithEqualPreferenceShuffled() {
        let records: [(preference: UInt16, exchange: DNSName)] = [
            (20, name("backup.test")), (10, name("a.test")), (10, name("b.test")), (30, name("last.test")),
        ]
        let route = MXRouting.route(domain: name("d.test"), mxRecords: records, shuffle: { $0.reversed() })
        #expect(route == .hosts([name("b.test"), name("a.test"), name("backup.test"), name("last.test")]))
        let unshuffled = MXRouting.route(domain: name("d.test"), mxRecords: records, shuffle: { $0 })
        #expect(unshuffled == .hosts([name("a.test"), name("b.test"), name("backup.test"), name("last.test")]))
    }

    @Test func implicitAndNullMX() {
        #expect(MXRouting.route(domain: name("d.test"), mxRecords: []) == .hosts([name("d.test")]))
        #expect(MXRouting.route(domain: name("d.test"), mxRecords: [(0, name("."))]) == .nullMX)
        // A null MX mixed with real ones is a misconfiguration: use the real ones.
        #expect(MXRouting.route(domain: name("d.test"), mxRecords: [(0, name(".")), (10, name("mx.test"))]) == .hosts([name("mx.test")]))
    }
}

@Suite struct ZoneResolverTests {
    let zone = ZoneResolver(records: [
        DNSRecord(name: try! DNSName("example.test"), type: 15, ttl: 60, data: .mx(preference: 10, exchange: try! DNSName("mx.example.test"))),
        DNSRecord(name: try! DNSName("mx.example.test"), type: 5, ttl: 60, data: .cname(try! DNSName("host.example.test"))),
        DNSRecord(name: try! DNSName("host.example.test"), type: 1, ttl: 60, data: .a([127, 0, 0, 2])),
        DNSRecord(name: try! DNSName("example.test"), type: 16, ttl: 60, data: .txt([Array("v=spf1 ".utf8), Array("mx -all".utf8)])),
    ], failing: [try! DNSName("broken.test")])

    @Test func answersFollowCNAMEs() async throws {
        #expect(try await zone.mx(name("example.test")).map(\.exchange) == [name("mx.example.test")])
        #expect(try await zone.addresses(name("mx.example.test")) == [[127, 0, 0, 2]])
        #expect(try await zone.txt(name("example.test")) == ["v=spf1 mx -all"])
    }

    @Test func nxdomainNodataAndFailure() async throws {
        #expect(try await zone.query(name("nowhere.test"), .a).nameDoesNotExist)
        let nodata = try await zone.query(name("example.test"), .aaaa)
        #expect(nodata.records.isEmpty && !nodata.nameDoesNotExist)
        await #expect(throws: DNSError.serverFailure(2)) { try await zone.query(name("broken.test"), .mx) }
    }
}
