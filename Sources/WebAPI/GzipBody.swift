import CZlib
import NIOCore

/// `Content-Encoding: gzip` request bodies (RFC 9110 §8.4.1.3, RFC 1952), inflated with the
/// system zlib under a hard output limit, so a small "zip bomb" cannot make a large buffer.
enum GzipBody {
    enum Failure: Error, Equatable {
        /// The inflated body would be larger than allowed.
        case tooLarge
        /// Not a complete, valid gzip stream.
        case corrupt
    }

    /// The inflated bytes of `compressed`; at most `limit` bytes.
    static func inflate(_ compressed: ByteBuffer, limit: Int) throws(Failure) -> ByteBuffer {
        var stream = z_stream()
        guard czlib_inflate_init_gzip(&stream) == Z_OK else { throw .corrupt }
        defer { inflateEnd(&stream) }
        var output = ByteBuffer()
        let chunk = 64 * 1024
        var input = Array(compressed.readableBytesView)
        var status = Z_OK
        var scratch = [UInt8](repeating: 0, count: chunk)
        let failure: Failure? = input.withUnsafeMutableBytes { (inputBytes: UnsafeMutableRawBufferPointer) -> Failure? in
            stream.next_in = inputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(inputBytes.count)
            while status != Z_STREAM_END {
                let produced = scratch.withUnsafeMutableBytes { out -> Int in
                    stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(chunk)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                // Z_BUF_ERROR: no progress possible, the input ended before the stream did.
                guard status == Z_OK || status == Z_STREAM_END else { return .corrupt }
                if output.readableBytes + produced > limit { return .tooLarge }
                output.writeBytes(scratch[0..<produced])
            }
            // Bytes after the gzip member are not a body anyone meant to send.
            return stream.avail_in == 0 ? nil : .corrupt
        }
        if let failure { throw failure }
        return output
    }
}
