import ServiceLifecycle

/// One HTTP listener in the server's service group. Hummingbird binds inside `run`, so a port
/// that cannot be bound surfaces here; it is reported with its configuration key, as the SMTP
/// and POP3 listeners report theirs. Listed after the mail listeners, it is shut down first:
/// requests in flight finish, new ones are refused.
struct HTTPListenerService<Base: Service>: Service {
    let base: Base
    let configurationKey: String
    let address: ListenAddress

    func run() async throws {
        do {
            try await base.run()
        } catch {
            throw ConfigurationError(key: configurationKey, "cannot serve HTTP on \(address): \(error)")
        }
    }
}
