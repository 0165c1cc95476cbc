import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SendGridProtocol

/// Reads a request body under a limit: gzip-encoded bodies are inflated under the same limit,
/// and JSON that does not decode is answered with the field it failed at.
enum BodyReader {
    /// What most endpoints accept: their bodies are small JSON objects.
    static let defaultLimit = 1024 * 1024

    /// The body's bytes, at most `limit` after inflating; 413 beyond, 415 for an encoding other
    /// than gzip or identity, 400 for a broken gzip stream.
    static func bytes(of request: Request, limit: Int) async throws(APIFailure) -> ByteBuffer {
        let encoding = request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces) ?? "identity"
        guard encoding == "identity" || encoding == "gzip" || encoding == "x-gzip" else {
            throw APIFailure(.unsupportedMediaType, "Content-Encoding \(encoding) is not supported; send gzip or no encoding")
        }
        let declared = request.headers[.contentLength].flatMap(Int.init)
        var raw = ByteBuffer()
        var seen = 0
        do {
            // One pass over the body: kept up to the limit, then read and dropped (up to
            // `drainLimit`), so the client, still sending, gets to read the 413; a body larger
            // still is cut off by closing the connection.
            for try await part in request.body {
                seen += part.readableBytes
                if seen <= limit, declared.map({ $0 <= limit }) ?? true {
                    var part = part
                    raw.writeBuffer(&part)
                } else if seen > drainLimit {
                    break
                }
            }
        } catch {
            throw APIFailure(.badRequest, "The request body could not be read")
        }
        if seen > limit || (declared ?? 0) > limit { throw tooLarge(limit, close: seen > drainLimit) }
        guard encoding != "identity" else { return raw }
        do {
            return try GzipBody.inflate(raw, limit: limit)
        } catch .tooLarge {
            throw tooLarge(limit)
        } catch {
            throw APIFailure(.badRequest, "The request body is not valid gzip")
        }
    }

    /// How much of an oversized body is read and dropped before the connection is closed.
    static let drainLimit = 128 * 1024 * 1024

    static func tooLarge(_ limit: Int, close: Bool = false) -> APIFailure {
        var failure = APIFailure(.contentTooLarge, "The request body is larger than \(limit) bytes")
        if close { failure.headers[.connection] = "close" }
        return failure
    }

    /// Decodes JSON; a body that is not JSON, or has a field of the wrong type, is a 400 that
    /// names the field by SendGrid's dotted path.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws(APIFailure) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIFailure(.badRequest, [Self.apiError(error)])
        } catch {
            throw APIFailure(.badRequest, "The request body is not valid JSON")
        }
    }

    /// A decoding error as SendGrid states a bad field.
    static func apiError(_ error: DecodingError) -> APIError {
        func path(_ keys: [any CodingKey]) -> String? {
            keys.isEmpty ? nil : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context):
            return APIError("The field has the wrong type: \(context.debugDescription)", field: path(context.codingPath))
        case .valueNotFound(_, let context):
            return APIError("The field must not be null", field: path(context.codingPath))
        case .keyNotFound(let key, let context):
            return APIError("The field is required", field: path(context.codingPath + [key]))
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? APIError("The request body is not valid JSON")
                : APIError("The field's value is not valid: \(context.debugDescription)", field: path(context.codingPath))
        @unknown default:
            return APIError("The request body is not valid JSON")
        }
    }
}
