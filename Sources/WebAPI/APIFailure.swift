import Foundation
import HTTPTypes
import Hummingbird
import MailService
import SendGridProtocol

/// Every answer of the API that is not a success, as SendGrid shapes it: a status and
/// `{"errors":[{"message","field","help"}]}` with every error of the request at once.
public struct APIFailure: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var errors: [APIError]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ errors: [APIError], headers: HTTPFields = [:]) {
        self.status = status
        self.errors = errors
        self.headers = headers
    }

    public init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.init(status, [APIError(message, field: field)])
    }

    /// 401 with SendGrid's text: no key, a malformed key, an unknown or a revoked one.
    public static let unauthorized = APIFailure(.unauthorized, [APIError.badKey])
    /// 403: the key lacks the endpoint's scope.
    public static let forbidden = APIFailure(.forbidden, "access forbidden")
    public static let notFound = APIFailure(.notFound, "resource not found")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        // Every errors body names all fields, null included, as SendGrid's do.
        let body = APIJSON.encode(APIErrorsBody(errors: errors))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// `{"errors":[…]}` with `field` and `help` written as null when absent (Swift's encoder would
/// leave them out; SendGrid's clients read the key).
struct APIErrorsBody: Encodable {
    var errors: [APIError]

    struct Entry: Encodable {
        var error: APIError
        enum CodingKeys: String, CodingKey { case message, field, help }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(error.message, forKey: .message)
            try container.encode(error.field, forKey: .field)
            try container.encode(error.help, forKey: .help)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(errors.map(Entry.init(error:)), forKey: .errors)
    }

    enum CodingKeys: String, CodingKey { case errors }
}

/// One JSON encoder for every body the API writes: sorted keys (stable output for tests and
/// caches), no escaped slashes.
enum APIJSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(value))) ?? Array(#"{"errors":[{"message":"internal error","field":null,"help":null}]}"#.utf8)
    }

    /// A JSON response with `status`.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: encode(value))))
    }
}
