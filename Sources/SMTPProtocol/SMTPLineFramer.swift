import NIOCore

/// Cuts the command stream into lines, with a hard limit so memory stays bounded whatever a
/// peer sends. A line ends at LF; a CR before it is removed. (RFC 5321 §2.3.8 wants CRLF;
/// like Postfix we accept a bare LF as the end of a *command* line, never of message data.)
public struct SMTPLineFramer: Sendable {
    public enum Frame: Equatable, Sendable {
        /// One line without its line ending.
        case line(ByteBuffer)
        /// A line longer than the limit was read through its end and thrown away.
        case tooLong
    }

    public let maximumLineLength: Int
    private var discarding = false

    public init(maximumLineLength: Int = SMTPCommandParser.maximumMailRcptLength) {
        self.maximumLineLength = maximumLineLength
    }

    /// The next complete line in `buffer`, consuming it; nil when more bytes are needed.
    public mutating func next(from buffer: inout ByteBuffer) -> Frame? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maximumLineLength {
                // Keep nothing of an over-long line; remember to drop the rest of it.
                discarding = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                buffer.discardReadBytes()
            }
            return nil
        }
        let length = lf - view.startIndex
        if discarding {
            discarding = false
            buffer.moveReaderIndex(forwardBy: length + 1)
            return .tooLong
        }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        if line.readableBytes + 2 > maximumLineLength { return .tooLong }
        return .line(line)
    }
}
