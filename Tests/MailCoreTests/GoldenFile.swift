import Foundation
import Testing

/// Golden files under `Tests/Golden/<directory>`: `rendered` must equal the file byte for byte;
/// `TERN_UPDATE_GOLDEN=1` rewrites the file first. Returns the rendered text for further checks.
enum GoldenFile {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Golden")

    @discardableResult
    static func check(_ rendered: [UInt8], directory: String, name: String) throws -> String {
        let path = root.appendingPathComponent(directory).appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["TERN_UPDATE_GOLDEN"] != nil {
            try Data(rendered).write(to: path)
        }
        let expected = try #require(FileManager.default.contents(atPath: path.path), "\(path.path) missing")
        let text = String(decoding: rendered, as: UTF8.self)
        #expect(text == String(decoding: expected, as: UTF8.self))
        return text
    }
}
