import MailStoreSQLite
import ServiceLifecycle

/// The WAL checkpointer as a service: it runs beside the writer until shutdown, then copies the
/// log back once more, after the listeners and delivery have stopped writing.
struct CheckpointService: Service {
    let checkpointer: WALCheckpointer

    func run() async throws {
        try? await gracefulShutdown()
        checkpointer.stop()
    }
}
