import Foundation
import Logging
import Testing

@testable import TernServer

@Suite struct LogLineHandlerTests {
    @Test func oneLinePerEventWithSortedMetadataAndLevelFilter() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var logger = Logger(label: "tern") { LogLineHandler(label: $0, level: .info, descriptor: fds[1]) }
        logger[metadataKey: "service"] = "delivery"
        logger.debug("hidden", metadata: ["x": "1"])
        logger.info("delivered", metadata: ["to": "a@b.test", "id": "Q1", "reply": "250 2.0.0 Ok"])
        logger.error("second")
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // 2026-11-22T14:40:01Z info tern: delivered id=Q1 reply=250 2.0.0 Ok service=delivery to=a@b.test [TernServerTests]
        let first = try #require(lines.first)
        #expect(first.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info tern: delivered id=Q1 reply=250 2\.0\.0 Ok service=delivery to=a@b\.test \[TernServerTests\]$"#, options: .regularExpression) != nil, "\(first)")
        #expect(lines[1].contains(" error tern: second service=delivery "))
        #expect(!text.contains("hidden"))
    }
}
