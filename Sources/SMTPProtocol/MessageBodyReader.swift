import NIOCore

/// Why a message body was refused after it was read to its end.
public enum BodyDefect: Hashable, Sendable {
    /// Larger than the size limit (RFC 1870 §6.3): 552 5.3.4.
    case tooLarge
    /// A CR or LF not part of a CRLF pair (RFC 5321 §2.3.8). Refused so that no bare line ending
    /// can ever act as end-of-data downstream (SMTP smuggling, CVE-2023-51764 class).
    case bareLineEnding
    /// A line longer than 1000 octets including CRLF (RFC 5321 §4.5.3.1.6).
    case lineTooLong

    public var reply: SMTPReply {
        switch self {
        case .tooLarge: .messageTooBig
        case .bareLineEnding: .bareLineEnding
        case .lineTooLong: .dataLineTooLong
        }
    }
}

/// The outcome of reading one body: the content, or the first defect found.
public enum BodyOutcome: Equatable, Sendable {
    case complete(ByteBuffer)
    case refused(BodyDefect)
}

/// Reads a DATA body (RFC 5321 §4.1.1.4): removes dot-stuffing (§4.5.2), ends only at
/// `CRLF . CRLF`, and checks size and line rules while keeping memory bounded by the size limit.
///
/// The message start counts as the start of a line, so `.CRLF` at once is an empty message.
/// After a bare LF or bare CR the reader is *not* at a line start, so none of the published
/// smuggling sequences (`LF.LF`, `LF.CRLF`, `CR.CR`, `CRLF.CR` …) can end the data.
public struct DataBodyReader: Sendable {
    enum State: Sendable {
        case lineStart
        case inLine
        case sawCR
        case dotAtLineStart
        case dotCR
    }

    public let maximumSize: Int
    private var state: State = .lineStart
    private var content: ByteBuffer
    private var size = 0
    private var lineLength = 0
    private var defect: BodyDefect?

    /// RFC 5321 §4.5.3.1.6: text line at most 1000 octets including CRLF.
    public static let maximumLineLength = 998

    public init(maximumSize: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maximumSize = maximumSize
        self.content = allocator.buffer(capacity: 4096)
    }

    /// Consumes bytes up to and including the end-of-data marker. Returns nil when more input is
    /// needed (every byte was consumed), or the outcome, with bytes after the marker left unread.
    public mutating func read(from buffer: inout ByteBuffer) -> BodyOutcome? {
        // The loop works on locals (no exclusivity checks per byte) and writes them back once.
        var state = self.state
        var lineLength = self.lineLength
        var size = self.size
        var defect = self.defect
        var out = self.content
        self.content = ByteBuffer()
        let maximumSize = self.maximumSize
        var consumed = 0
        var finished = false

        func note(_ found: BodyDefect) {
            if defect == nil { defect = found }
        }
        func emit(_ bytes: UnsafeRawBufferPointer) {
            size += bytes.count
            if size > maximumSize {
                // Size wins over other defects: the client must learn the message can never fit.
                if defect != .tooLarge { out = ByteBuffer() }
                defect = .tooLarge
            } else if defect == nil {
                out.writeBytes(bytes)
            }
        }
        func emit(_ byte: UInt8) {
            withUnsafeBytes(of: byte) { emit($0) }
        }
        func emitCRLF() {
            withUnsafeBytes(of: UInt16(0x0A0D).littleEndian) { emit($0) }
        }

        buffer.withUnsafeReadableBytes { raw in
            let available = raw.count
            var i = 0
            while i < available {
                let byte = raw[i]
                switch state {
                case .inLine:
                    // Fast path: copy the run of ordinary bytes up to the next CR or LF at once.
                    var j = i
                    while j < available {
                        let b = raw[j]
                        if b == 0x0D || b == 0x0A { break }
                        j += 1
                    }
                    if j > i {
                        emit(UnsafeRawBufferPointer(rebasing: raw[i..<j]))
                        lineLength += j - i
                        i = j
                        continue
                    }
                    if byte == 0x0D {
                        state = .sawCR
                    } else {
                        note(.bareLineEnding)
                        emit(0x0A)
                    }
                    i += 1
                case .lineStart:
                    lineLength = 0
                    if byte == UInt8(ascii: ".") {
                        state = .dotAtLineStart
                        lineLength = 1
                        i += 1
                    } else {
                        state = .inLine
                    }
                case .dotAtLineStart:
                    if byte == 0x0D {
                        state = .dotCR
                        i += 1
                    } else {
                        // RFC 5321 §4.5.2: the first dot of a line is removed.
                        state = .inLine
                    }
                case .dotCR:
                    if byte == 0x0A {
                        i += 1
                        finished = true
                    } else {
                        note(.bareLineEnding)
                        emit(0x0D)
                        state = .inLine
                    }
                case .sawCR:
                    if byte == 0x0A {
                        if lineLength > Self.maximumLineLength { note(.lineTooLong) }
                        emitCRLF()
                        state = .lineStart
                        i += 1
                    } else {
                        note(.bareLineEnding)
                        emit(0x0D)
                        state = .inLine
                    }
                }
                if finished { break }
            }
            consumed = i
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        self.state = state
        self.lineLength = lineLength
        self.size = size
        self.defect = defect
        self.content = out
        guard finished else { return nil }
        if let defect { return .refused(defect) }
        return .complete(out)
    }
}

/// Collects BDAT chunks (RFC 3030): exact byte counts, no dot-stuffing, the same size and line
/// rules as DATA so that what Tern stores is always CRLF-clean.
public struct ChunkedBodyReader: Sendable {
    public let maximumSize: Int
    private var content = ByteBuffer()
    private var size = 0
    private var lineLength = 0
    private var lastWasCR = false
    private var defect: BodyDefect?

    public init(maximumSize: Int) {
        self.maximumSize = maximumSize
    }

    public var totalSize: Int { size }

    /// Appends chunk bytes (already cut to the announced size by the caller).
    public mutating func append(_ chunk: ByteBuffer) {
        size += chunk.readableBytes
        if size > maximumSize {
            defect = .tooLarge
            content = ByteBuffer()
            return
        }
        for byte in chunk.readableBytesView {
            if lastWasCR {
                if byte != 0x0A { note(.bareLineEnding) }
                lastWasCR = false
                if byte == 0x0A {
                    if lineLength > DataBodyReader.maximumLineLength { note(.lineTooLong) }
                    lineLength = 0
                    continue
                }
            }
            if byte == 0x0D {
                lastWasCR = true
            } else if byte == 0x0A {
                note(.bareLineEnding)
            } else {
                lineLength += 1
            }
        }
        if defect == nil {
            var chunk = chunk
            content.writeBuffer(&chunk)
        }
    }

    /// The outcome once the LAST chunk has been appended.
    public mutating func finish() -> BodyOutcome {
        if lastWasCR { note(.bareLineEnding) }
        if let defect { return .refused(defect) }
        return .complete(content)
    }

    private mutating func note(_ found: BodyDefect) {
        if defect == nil { defect = found }
    }
}
