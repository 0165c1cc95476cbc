import NIOCore
import Testing

@testable import SMTPProtocol

/// Feeds `bytes` in pieces of `step` and collects frames.
private func frames(_ text: String, step: Int, limit: Int = 2048) -> [SMTPLineFramer.Frame] {
    var framer = SMTPLineFramer(maximumLineLength: limit)
    var buffer = ByteBuffer()
    var out: [SMTPLineFramer.Frame] = []
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        buffer.writeBytes(bytes[i..<min(i + step, bytes.count)])
        i += step
        while let frame = framer.next(from: &buffer) { out.append(frame) }
    }
    return out
}

@Suite struct LineFramerTests {
    @Test(arguments: [1, 2, 3, 7, 1000])
    func splitsLinesWhateverTheChunking(step: Int) {
        let result = frames("EHLO a\r\nMAIL FROM:<>\r\nNOOP\n", step: step)
        #expect(result == [.line(ByteBuffer(string: "EHLO a")), .line(ByteBuffer(string: "MAIL FROM:<>")), .line(ByteBuffer(string: "NOOP"))])
    }

    @Test func incompleteLineWaits() {
        var framer = SMTPLineFramer()
        var buffer = ByteBuffer(string: "EHLO a")
        #expect(framer.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 6)  // nothing consumed
    }

    @Test(arguments: [1, 5, 64])
    func overlongLineIsDroppedThenFramingRecovers(step: Int) {
        let long = String(repeating: "x", count: 300)
        let result = frames("\(long)\r\nNOOP\r\n", step: step, limit: 100)
        #expect(result == [.tooLong, .line(ByteBuffer(string: "NOOP"))])
    }

    @Test func memoryStaysBoundedForEndlessLine() {
        var framer = SMTPLineFramer(maximumLineLength: 100)
        var buffer = ByteBuffer()
        for _ in 0..<1000 {
            buffer.writeString(String(repeating: "y", count: 64))
            #expect(framer.next(from: &buffer) == nil)
            #expect(buffer.readableBytes <= 164)
        }
        buffer.writeString("\r\nQUIT\r\n")
        #expect(framer.next(from: &buffer) == .tooLong)
        #expect(framer.next(from: &buffer) == .line(ByteBuffer(string: "QUIT")))
    }
}

/// Reads a DATA stream fed in pieces of `step`; returns the outcome and what was left over.
func readData(_ bytes: [UInt8], step: Int, limit: Int = 1 << 20) -> (BodyOutcome?, [UInt8]) {
    var reader = DataBodyReader(maximumSize: limit)
    var buffer = ByteBuffer()
    var i = 0
    while i < bytes.count {
        buffer.writeBytes(bytes[i..<min(i + step, bytes.count)])
        i += step
        if let outcome = reader.read(from: &buffer) {
            buffer.writeBytes(bytes[min(i, bytes.count)...])
            return (outcome, Array(buffer.readableBytesView))
        }
    }
    return (nil, Array(buffer.readableBytesView))
}

@Suite struct DataBodyReaderTests {
    @Test(arguments: [1, 2, 3, 5, 4096])
    func unstuffsAndStopsAtTheMarker(step: Int) {
        let wire = Array("Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n".utf8)
        let (outcome, rest) = readData(wire, step: step)
        #expect(outcome == .complete(ByteBuffer(string: "Subject: x\r\n\r\n.leading dot\r\n")))
        #expect(rest == Array("QUIT\r\n".utf8))
    }

    @Test func emptyMessage() {
        let (outcome, rest) = readData(Array(".\r\n".utf8), step: 1)
        #expect(outcome == .complete(ByteBuffer()))
        #expect(rest.isEmpty)
    }

    @Test func dotInsideLineIsKept() {
        let (outcome, _) = readData(Array("a.b\r\n.x\r\n.\r\n".utf8), step: 3)
        #expect(outcome == .complete(ByteBuffer(string: "a.b\r\nx\r\n")))
    }

    /// The smuggling sequences of the 2023 research: none may end the data. Each is followed by a
    /// "second message"; the reader must read through to the real CRLF.CRLF and refuse the whole.
    @Test(arguments: [
        "\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\r.\r", "\n.\r", "\r.\n", "\r\n.\n", "\r\n\u{0}.\r\n",
    ])
    func smugglingSequencesNeverEndData(sequence: String) {
        let wire = Array("Subject: a\r\n\r\nbody\(sequence)MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nsmuggled\r\n.\r\nNOOP\r\n".utf8)
        for step in [1, 2, 7, 4096] {
            let (outcome, rest) = readData(wire, step: step)
            if sequence == "\r\n\u{0}.\r\n" {
                // NUL is not a line ending: this one is simply a line "\0." — and the message ends
                // only at the real marker.
                #expect(outcome != nil)
            } else {
                #expect(outcome == .refused(.bareLineEnding), "sequence \(sequence.debugDescription) step \(step)")
            }
            #expect(rest == Array("NOOP\r\n".utf8), "sequence \(sequence.debugDescription) step \(step)")
        }
    }

    @Test func sizeLimitReadsThroughAndRefuses() {
        let body = String(repeating: "0123456789abcdef\r\n", count: 100)
        let (outcome, rest) = readData(Array("\(body).\r\nQUIT\r\n".utf8), step: 13, limit: 1000)
        #expect(outcome == .refused(.tooLarge))
        #expect(rest == Array("QUIT\r\n".utf8))
        // Exactly at the limit is fine.
        let exact = String(repeating: "a", count: 998) + "\r\n"
        #expect(readData(Array("\(exact).\r\n".utf8), step: 50, limit: 1000).0 == .complete(ByteBuffer(string: exact)))
        #expect(readData(Array("\(exact).\r\n".utf8), step: 50, limit: 999).0 == .refused(.tooLarge))
    }

    // RFC 5321 §4.5.3.1.6: 1000 octets including CRLF.
    @Test func lineLengthLimit() {
        let ok = String(repeating: "a", count: 998)
        #expect(readData(Array("\(ok)\r\n.\r\n".utf8), step: 100).0 == .complete(ByteBuffer(string: "\(ok)\r\n")))
        #expect(readData(Array("\(ok)a\r\n.\r\n".utf8), step: 100).0 == .refused(.lineTooLong))
    }

    /// Property: any chunking of random input gives the same outcome as reading it whole.
    @Test func chunkingDoesNotChangeTheOutcome() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x0D, 0x0A, UInt8(ascii: "."), UInt8(ascii: "a"), 0x00, 0xFF]
        for _ in 0..<2000 {
            var bytes = (0..<Int.random(in: 0..<60, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            bytes += Array("\r\n.\r\n".utf8)
            let whole = readData(bytes, step: bytes.count)
            let dripped = readData(bytes, step: 1)
            let random = readData(bytes, step: Int.random(in: 1...8, using: &rng))
            #expect(whole.0 == dripped.0 && whole.1 == dripped.1)
            #expect(whole.0 == random.0 && whole.1 == random.1)
            // Whatever is accepted is CRLF-clean: no bare CR or LF ever reaches the store.
            if case .complete(let content)? = whole.0 {
                let c = Array(content.readableBytesView)
                for (i, b) in c.enumerated() {
                    if b == 0x0A { #expect(i > 0 && c[i - 1] == 0x0D) }
                    if b == 0x0D { #expect(i + 1 < c.count && c[i + 1] == 0x0A) }
                }
            }
        }
    }
}

@Suite struct ChunkedBodyReaderTests {
    @Test func collectsChunks() {
        var reader = ChunkedBodyReader(maximumSize: 100)
        reader.append(ByteBuffer(string: "Subject: a\r"))
        reader.append(ByteBuffer(string: "\n\r\nbody\r\n"))
        #expect(reader.totalSize == 20)
        #expect(reader.finish() == .complete(ByteBuffer(string: "Subject: a\r\n\r\nbody\r\n")))
    }

    @Test func refusesBareLineEndingsAndSize() {
        var bare = ChunkedBodyReader(maximumSize: 100)
        bare.append(ByteBuffer(string: "a\nb\r\n"))
        #expect(bare.finish() == .refused(.bareLineEnding))
        var trailingCR = ChunkedBodyReader(maximumSize: 100)
        trailingCR.append(ByteBuffer(string: "a\r"))
        #expect(trailingCR.finish() == .refused(.bareLineEnding))
        var big = ChunkedBodyReader(maximumSize: 10)
        big.append(ByteBuffer(string: "0123456789"))
        big.append(ByteBuffer(string: "x"))
        #expect(big.finish() == .refused(.tooLarge))
    }
}
