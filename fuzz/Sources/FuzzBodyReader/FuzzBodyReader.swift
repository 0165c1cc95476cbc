import FuzzDriver
import NIOCore
import SMTPProtocol

/// Fuzzes the DATA reader: the input is read once whole and once in pieces whose sizes come from
/// the input itself. Both must agree, and accepted content must be CRLF-clean (no bare CR or LF
/// can reach the store, so none can smuggle a second message downstream).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBodyReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let step = Int(first % 16) + 1
    let whole = read(bytes, step: max(bytes.count, 1))
    let pieces = read(bytes, step: step)
    precondition(whole.0 == pieces.0 && whole.1 == pieces.1, "chunking changed the outcome")
    if case .complete(let content)? = whole.0 {
        let c = Array(content.readableBytesView)
        precondition(c.count <= 2048)
        for (i, b) in c.enumerated() {
            if b == 0x0A { precondition(i > 0 && c[i - 1] == 0x0D, "bare LF accepted") }
            if b == 0x0D { precondition(i + 1 < c.count && c[i + 1] == 0x0A, "bare CR accepted") }
        }
    }
    return 0
}

private func read(_ bytes: [UInt8], step: Int) -> (BodyOutcome?, [UInt8]) {
    var reader = DataBodyReader(maximumSize: 2048)
    var buffer = ByteBuffer()
    var i = 0
    while i < bytes.count {
        buffer.writeBytes(bytes[i..<min(i + step, bytes.count)])
        i += step
        if let outcome = reader.read(from: &buffer) {
            if i < bytes.count { buffer.writeBytes(bytes[i...]) }
            return (outcome, Array(buffer.readableBytesView))
        }
    }
    return (nil, Array(buffer.readableBytesView))
}

@_cdecl("FuzzBodyReader_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzBodyReader(data, size) }
}
