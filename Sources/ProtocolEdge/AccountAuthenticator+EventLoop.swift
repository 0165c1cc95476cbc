import MailService
import NIOCore

extension AccountAuthenticator {
    /// The answer to `lookup` as a future on `eventLoop`, for connection handlers: the check runs
    /// on the authenticator's own queue, never on the event loop.
    public func answer(_ lookup: CredentialLookup, on eventLoop: any EventLoop) -> EventLoopFuture<CredentialAnswer> {
        let promise = eventLoop.makePromise(of: CredentialAnswer.self)
        answer(lookup) { promise.succeed($0) }
        return promise.futureResult
    }
}
