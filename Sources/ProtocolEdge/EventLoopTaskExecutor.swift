import NIOCore

/// Runs a connection's session task on the connection's own event loop (SE-0417 task executor
/// preference). A session that runs elsewhere pays two thread hand-offs per command (the loop
/// wakes a pool thread to run the command, the pool thread wakes the loop to write the reply);
/// on its own loop the command's input, its handling and its reply stay on one thread, as in a
/// one-process-per-connection server. The session must therefore never block for long: store
/// reads are short (WAL readers do not wait for the writer), store writes still hop to the
/// writer's queue and resume here.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
