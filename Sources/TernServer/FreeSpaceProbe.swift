import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Answers "is there room on the data disk?" from `statvfs`, refreshed at most once a second so
/// the check costs nothing per MAIL command.
public final class FreeSpaceProbe: Sendable {
    private struct Sample {
        var checkedAt: Int = 0
        var hasRoom = true
    }

    public let path: String
    public let minimumFreeBytes: Int
    private let sample = Mutex(Sample())

    public init(path: String, minimumFreeBytes: Int) {
        self.path = path
        self.minimumFreeBytes = minimumFreeBytes
    }

    public func hasRoom() -> Bool {
        let now = Int(time(nil))
        return sample.withLock { sample in
            if sample.checkedAt != now {
                sample.checkedAt = now
                sample.hasRoom = freeBytes().map { $0 >= minimumFreeBytes } ?? true
            }
            return sample.hasRoom
        }
    }

    public func freeBytes() -> Int? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }
}
