import Dispatch
import GRDB

/// Copies the WAL back into the database from its own connection, once a second when there were
/// commits. A PASSIVE checkpoint runs beside the writer, so the group-commit path pays only for
/// its own WAL append and fsync, never for a checkpoint (which SQLite would otherwise run inside
/// the commit that crosses 1000 pages).
// @unchecked: the timer is set once in init; DispatchSource.cancel is thread-safe.
public final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let timer: any DispatchSourceTimer

    init(path: String, spool: GroupCommitSpool, interval: Double) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        self.connection = connection
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tern.wal.checkpoint"))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        let idle = IdleMark()
        timer.setEventHandler {
            guard spool.takeCommitCount() > 0 else {
                // Quiet for a whole interval after commits: a TRUNCATE checkpoint empties the WAL
                // file, so pages of deleted content do not stay readable in it until overwritten.
                if idle.dirty, (try? connection.writeWithoutTransaction({ db in try db.checkpoint(.truncate) })) != nil {
                    idle.dirty = false
                }
                return
            }
            idle.dirty = true
            let frames = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            // Under steady load a PASSIVE checkpoint never catches up, so the WAL only grows and
            // every commit appends to it; appending makes each fdatasync ~3x slower on ext4 than
            // overwriting (measured here: 0.61 ms vs 0.19 ms). Once it is large, a RESTART
            // checkpoint (a short pause for writers) lets the next commits overwrite it in place.
            if let frames, frames.walFrameCount > Self.restartFrames {
                _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.restart) }
            }
        }
        timer.resume()
        self.timer = timer
    }

    /// Whether commits happened since the WAL was last truncated; touched only on the timer's queue.
    private final class IdleMark: @unchecked Sendable {
        var dirty = false
    }

    /// WAL frames (pages) beyond which the checkpointer restarts the log: 2,048 is 8 MiB.
    static let restartFrames = 2048

    /// Stops the timer and runs one last checkpoint.
    public func stop() {
        timer.cancel()
        _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
}
