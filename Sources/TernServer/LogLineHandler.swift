import Foundation
import Logging
import MailCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One line per event on standard error, like Postfix's maillog:
/// `2026-11-22T14:40:01Z info delivered id=… to=… [Delivery]`.
///
/// Replaces swift-log's `StreamLogHandler`, which cost about a tenth of the CPU of a relayed
/// message (bench/relay, two lines per message): it formats the time with `strftime` on every
/// line, merges and sorts metadata through several dictionaries, and goes through stdio with a
/// flush. Here the timestamp is formatted once per second, and each line is one `write(2)`, so
/// lines from different threads never interleave.
public struct LogLineHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    /// Where lines go: standard error, or a pipe in tests.
    let descriptor: Int32

    public init(label: String, level: Logger.Level, descriptor: Int32 = 2) {
        self.label = label
        self.logLevel = level
        self.descriptor = descriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Self.clock.timestamp()
        line += " "
        line += event.level.rawValue
        line += " "
        line += label
        line += ": "
        // Messages and fields carry text from the network (HELO names, addresses, replies,
        // DNS names): escaped, so no client can end this line and forge the next one.
        line += TerminalText.escaped(event.message.description)
        let fields: Logger.Metadata
        if let extra = event.metadata, !extra.isEmpty {
            fields = metadata.isEmpty ? extra : metadata.merging(extra) { _, new in new }
        } else {
            fields = metadata
        }
        for key in fields.keys.sorted() {
            line += " "
            line += key
            line += "="
            line += TerminalText.escaped(fields[key]!.description)
        }
        line += " ["
        line += event.source
        line += "]\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    static let clock = SecondClock()
}

/// An RFC 3339 UTC timestamp, formatted once per second.
final class SecondClock: Sendable {
    private let cache = Mutex<(second: Int, text: String)>((-1, ""))

    func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        return cache.withLock { cache in
            if cache.second != second {
                cache = (second, MessageDate.rfc3339(unixSeconds: second))
            }
            return cache.text
        }
    }
}
