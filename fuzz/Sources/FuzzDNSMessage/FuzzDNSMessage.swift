import DNSClient
import FuzzDriver

/// Fuzzes the DNS decoder with arbitrary packets (what a hostile nameserver or an off-path
/// forger sends): it must refuse or decode without trapping, never loop, and what it decodes
/// must encode and decode to the same message. Names decoded are checked for `isHostname`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSMessage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? DNSMessageCodec.decode(bytes) else { return 0 }
    for record in message.answers + message.authority + message.additional {
        _ = record.name.isHostname
        _ = record.name.description
        if case .mx(_, let exchange) = record.data { _ = exchange.isHostname }
    }
    let encoded = DNSMessageCodec.encode(message)
    if encoded.count <= 65535 {
        guard let again = try? DNSMessageCodec.decode(encoded) else { preconditionFailure("a decoded message re-encodes to something undecodable") }
        precondition(again == message, "decode(encode(m)) == m")
    }
    return 0
}

@_cdecl("FuzzDNSMessage_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzDNSMessage(data, size) }
}
