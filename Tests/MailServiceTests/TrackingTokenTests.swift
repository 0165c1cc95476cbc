import Crypto
import Testing

@testable import MailService

/// Tracking tokens: everything round-trips, and any change to a token, or another key, is refused.
@Suite struct TrackingTokenTests {
    let key = SymmetricKey(data: Array(repeating: UInt8(7), count: 32))

    @Test func roundTripsEveryKind() throws {
        let tokens = [
            TrackingToken(kind: .open, messageID: "Qx1-abc_DEF.filter0001.1", recipient: "ada@example.test"),
            TrackingToken(kind: .click, messageID: "m1", recipient: "b@example.test", index: 999, url: "https://example.test/p?a=1&b=2#x"),
            TrackingToken(kind: .click, messageID: "m1", recipient: "ü@exämple.test", index: 3, url: "https://example.test/" + String(repeating: "é", count: 1000)),
            TrackingToken(kind: .unsubscribe, messageID: "m2", recipient: "c@example.test", index: 42),
        ]
        for token in tokens {
            let sealed = token.sealed(with: key)
            #expect(sealed.allSatisfy { $0.isLetter && $0.isASCII || $0.isNumber || $0 == "-" || $0 == "_" }, "\(sealed)")
            #expect(TrackingToken(opening: sealed, with: key) == token)
        }
    }

    @Test func anyChangeOrAnotherKeyIsRefused() {
        let sealed = TrackingToken(kind: .click, messageID: "m1", recipient: "b@example.test", index: 2, url: "https://example.test/x").sealed(with: key)
        #expect(TrackingToken(opening: sealed, with: SymmetricKey(data: Array(repeating: UInt8(8), count: 32))) == nil)
        let characters = Array(sealed)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for position in characters.indices {
            var changed = characters
            changed[position] = alphabet.first { $0 != characters[position] }!
            #expect(TrackingToken(opening: String(changed), with: key) == nil, "position \(position)")
        }
        #expect(TrackingToken(opening: String(sealed.dropLast()), with: key) == nil)
        #expect(TrackingToken(opening: sealed + "A", with: key) == nil)
        #expect(TrackingToken(opening: "", with: key) == nil)
        #expect(TrackingToken(opening: "not a token!", with: key) == nil)
        #expect(TrackingToken(opening: String(repeating: "A", count: TrackingToken.maximumLength + 1), with: key) == nil)
    }

    @Test func malformedPayloadsWithAValidTagAreRefused() {
        // A tag over bytes that do not parse (no fields, a length past the end, trailing bytes).
        for payload: [UInt8] in [[1, 2], [1, 2, 200], [1, 9, 0, 0, 0, 0], [2, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0]] {
            let tag = Array(HMAC<SHA256>.authenticationCode(for: payload, using: key)).prefix(16)
            #expect(TrackingToken(opening: TrackingToken.base64URL(payload + tag), with: key) == nil, "\(payload)")
        }
        let valid: [UInt8] = [1, 1, 0, 0, 0, 0]
        let tag = Array(HMAC<SHA256>.authenticationCode(for: valid, using: key)).prefix(16)
        #expect(TrackingToken(opening: TrackingToken.base64URL(valid + tag), with: key) == TrackingToken(kind: .open, messageID: "", recipient: ""))
    }
}
