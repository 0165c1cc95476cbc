import Foundation
import FuzzDriver
import MailCore
import SendGridProtocol

/// Fuzzes what the HTTP API parses from clients: the send request (JSON decoding, validation,
/// then every personalization composed and rendered), the activity `query`, the X-SMTPAPI
/// field, stored replies' enhanced status codes and dates. Invariants: nothing traps; a valid
/// request yields one message per personalization, each rendered with a From line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSendAPI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? ActivityQuery(parsing: text)
    _ = SMTPAPIHeader(value: text)
    if let status = EnhancedStatusText(reply: text) { _ = EventPayload.bounceClassification(status: status.description) }
    _ = MessageDate.startOfDay(parsing: text)
    if let request = try? JSONDecoder().decode(MailSendRequest.self, from: Data(bytes)) {
        _ = request.sendOptions
        if MailSendValidation.errors(in: request, now: 1_796_000_000).isEmpty {
            let messages = request.messages(messageID: { "<m\($0)@fuzz.test>" }, date: "Mon, 30 Nov 2026 00:00:00 +0000")
            precondition(messages.count == request.personalizations?.count, "one message per personalization")
            for message in messages {
                let rendered = message.composed.render(boundary: { "b\($0)" })
                precondition(String(decoding: rendered.prefix(5), as: UTF8.self) == "From:", "a message starts with From")
            }
        }
    }
    return 0
}

@_cdecl("FuzzSendAPI_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzSendAPI(data, size) }
}
