import HTTPTypes
import Hummingbird
import MailService
import NIOCore

/// The URLs in tracked mail: `GET /t/o/{token}` answers a 1×1 GIF and records an open;
/// `GET`/`HEAD /t/c/{token}` answers `302` to the link's own URL and records a click. No key:
/// the token is the credential, and one that does not verify is a 404.
struct TrackingEndpoint {
    let recorder: EngagementRecorder

    /// A transparent 1×1 GIF (43 bytes).
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func register(on router: Router<APIRequestContext>) {
        router.get("/t/o/:token") { request, context in try await open(request, context) }
        router.get("/t/c/:token") { request, context in try await click(request, context, head: false) }
        router.head("/t/c/:token") { request, context in try await click(request, context, head: true) }
    }

    func open(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard await recorder.open(token: token, userAgent: request.headers[.userAgent] ?? "", address: context.clientAddress) else {
            throw APIFailure.notFound
        }
        return Response(
            status: .ok, headers: [.contentType: "image/gif", .cacheControl: "no-cache, no-store, must-revalidate"],
            body: .init(byteBuffer: ByteBuffer(bytes: Self.pixel)))
    }

    func click(_ request: Request, _ context: APIRequestContext, head: Bool) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let url = await recorder.click(token: token, head: head, userAgent: request.headers[.userAgent] ?? "", address: context.clientAddress)
        else { throw APIFailure.notFound }
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-cache, no-store, must-revalidate"])
    }
}
