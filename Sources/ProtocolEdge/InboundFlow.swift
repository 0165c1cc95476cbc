import NIOCore

/// The unread input of one connection, and when its reads pause: the backpressure every
/// protocol handler (SMTP, POP3, IMAP) shares.
///
/// A handler feeds its session only while it is not waiting for a decision and the channel is
/// writable. Replies to a peer that does not read pile up in the channel's outbound buffer until
/// it passes the high water mark (`ProtocolListener.writeBufferWaterMark`); the channel turns
/// unwritable, input is no longer processed, and once `maximumBuffered` unread bytes wait, reads
/// stop, so TCP's own window holds the peer back. One connection therefore holds at most about
/// `maximumBuffered` of input plus the replies that input produced.
public struct InboundFlow {
    /// Unread bytes held before reads pause.
    public static let defaultMaximumBuffered = 64 * 1024

    public var input: ByteBuffer
    public let maximumBuffered: Int
    public private(set) var readsPaused = false

    public init(maximumBuffered: Int = InboundFlow.defaultMaximumBuffered) {
        self.input = ByteBuffer()
        self.maximumBuffered = maximumBuffered
    }

    /// Adds what was read.
    public mutating func append(_ bytes: inout ByteBuffer) {
        if input.readableBytes == 0 {
            input = bytes
        } else {
            input.writeBuffer(&bytes)
        }
    }

    /// Drops everything unread (STARTTLS/STLS: plaintext behind the command, CVE-2011-0411).
    public mutating func discard() {
        input.clear()
    }

    /// Reclaims consumed space after the session has taken what it could.
    public mutating func compact() {
        if input.readableBytes == 0 {
            input.clear()
        } else if input.readerIndex > 65536 {
            input.discardReadBytes()
        }
    }

    /// Pauses reading while the buffer is at its bound or the channel cannot take more output,
    /// and resumes it once neither holds. Call after every read, write and decision.
    public mutating func updateReading(_ channel: any Channel) {
        let shouldPause = input.readableBytes >= maximumBuffered || !channel.isWritable
        guard shouldPause != readsPaused else { return }
        readsPaused = shouldPause
        channel.setOption(ChannelOptions.autoRead, value: !shouldPause).whenFailure { _ in }
    }
}
