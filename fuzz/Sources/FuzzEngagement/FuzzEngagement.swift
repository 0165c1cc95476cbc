import Engagement
import FuzzDriver
import MailCore
import SendGridProtocol

/// Fuzzes what engagement features read from senders: HTML bodies (link and pixel rewriting),
/// whole messages (tracking applied part by part), abuse reports (ARF) and dynamic templates.
/// Invariants: nothing traps; putting each link's original bytes back and taking the pixel out
/// gives the HTML back exactly; a message with nothing to track comes back unchanged; a
/// rendering never passes its output limit.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngagement(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Links become a marker byte sequence that cannot occur in the input (0xFF 0xFE index 0xFF).
    let rewriter = HTMLLinkRewriter(trackingURL: { index, _ in "\u{FFFF}\(index)\u{FFFF}" }, pixel: "\u{FFFE}")
    let result = rewriter.rewrite(bytes)
    precondition(result.links.count <= HTMLLinkRewriter.maximumLinks, "link limit")
    if !String(decoding: bytes, as: UTF8.self).contains("\u{FFFF}"), !String(decoding: bytes, as: UTF8.self).contains("\u{FFFE}") {
        var restored = result.html
        for link in result.links.reversed() {
            let marker = Array("\u{FFFF}\(link.index)\u{FFFF}".utf8)
            if let at = firstRange(of: marker, in: restored) { restored.replaceSubrange(at, with: link.original) }
        }
        if let pixel = lastRange(of: Array("\u{FFFE}".utf8), in: restored) { restored.removeSubrange(pixel) }
        precondition(restored == bytes, "only href values and the pixel change")
    }
    let footer = SubscriptionFooter(url: "https://t.test/u/T", substitutionTag: bytes.count % 2 == 0 ? "[unsub]" : nil)
    let tracked = MessageTracking(
        html: HTMLLinkRewriter(trackingURL: { i, _ in "https://t.test/c/\(i)" }, pixel: "<img>"), trackText: true, footer: bytes.count % 3 == 0 ? footer : nil
    ).apply(to: bytes)
    if tracked.links.isEmpty, MessageTracking(html: HTMLLinkRewriter(trackingURL: nil, pixel: nil)).apply(to: bytes).message != bytes {
        preconditionFailure("nothing to track, yet the message changed")
    }
    if let report = FeedbackReport(message: bytes) { precondition(!report.feedbackType.isEmpty, "a report has a type") }
    let limits = DynamicTemplate.Limits(maximumLength: 4096, maximumDepth: 16, maximumOutput: 65_536)
    if let template = try? DynamicTemplate(String(decoding: bytes, as: UTF8.self), limits: limits) {
        let data: JSONValue = .object(["a": .array([.string("<x>"), .int(1), .object(["b": .bool(true)])]), "n": .int(0), "s": .string("q&\"")])
        if let rendered = try? template.render(data) { precondition(rendered.utf8.count <= 65_536, "output limit") }
    }
    return 0
}

func firstRange(of needle: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
    guard bytes.count >= needle.count else { return nil }
    for i in 0...(bytes.count - needle.count) where bytes[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
    return nil
}

func lastRange(of needle: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
    guard bytes.count >= needle.count else { return nil }
    for i in stride(from: bytes.count - needle.count, through: 0, by: -1) where bytes[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
    return nil
}

@_cdecl("FuzzEngagement_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzEngagement(data, size) }
}
