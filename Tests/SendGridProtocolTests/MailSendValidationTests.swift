import Foundation
import MailCore
import Testing

@testable import SendGridProtocol

/// The validation table of `POST /v3/mail/send`: each rule with a request that breaks it and the
/// field SendGrid names; a request breaking several gets them all.
@Suite struct MailSendValidationTests {
    static let now = 1_764_489_600

    func decode(_ json: String) throws -> MailSendRequest {
        try JSONDecoder().decode(MailSendRequest.self, from: Data(json.utf8))
    }

    func fields(_ json: String) throws -> [String?] {
        MailSendValidation.errors(in: try decode(json), now: Self.now).map(\.field)
    }

    static let valid = """
        {"personalizations":[{"to":[{"email":"bob@example.net","name":"Bob"}]}],"from":{"email":"shop@example.test"},
         "subject":"Hi","content":[{"type":"text/plain","value":"Hello"}]}
        """

    @Test func aValidRequestHasNoErrors() throws {
        #expect(try fields(Self.valid).isEmpty)
    }

    @Test(arguments: [
        (#"{"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}"#, "personalizations"),
        (#"{"personalizations":[{}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}"#, "personalizations.0.to"),
        (#"{"personalizations":[{"to":[{"email":"not an address"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}"#, "personalizations.0.to.0.email"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}],"cc":[{"email":"X@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}"#, "personalizations.0"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"subject":"s","content":[{"type":"text/plain","value":"x"}]}"#, "from"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"content":[{"type":"text/plain","value":"x"}]}"#, "subject"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s"}"#, "content"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":""}]}"#, "content.0.value"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/html","value":"<p>"},{"type":"text/plain","value":"x"}]}"#, "content"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"attachments":[{"content":"!!!","filename":"a"}]}"#, "attachments.0.content"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"attachments":[{"content":"aGk="}]}"#, "attachments.0.filename"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"attachments":[{"content":"aGk=","filename":"a.png","disposition":"inline"}]}"#, "attachments.0.content_id"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"headers":{"Subject":"x"}}"#, "headers.Subject"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"headers":{"X-A":"a\r\nBcc: evil@x.test"}}"#, "headers.X-A"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"categories":["1","2","3","4","5","6","7","8","9","10","11"]}"#, "categories"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"send_at":1764849601}"#, "send_at"),
        (#"{"personalizations":[{"to":[{"email":"x@y.test"}]}],"from":{"email":"a@b.test"},"reply_to":{"email":"r@b.test"},"reply_to_list":[{"email":"s@b.test"}],"subject":"s","content":[{"type":"text/plain","value":"x"}]}"#, "reply_to_list"),
    ])
    func eachRuleNamesItsField(json: String, field: String) throws {
        #expect(try fields(json) == [field])
    }

    @Test func everyErrorAtOnce() throws {
        let errors = try fields(#"{"personalizations":[{"to":[{"email":"bad"}]}],"content":[{"type":"text/plain","value":""}]}"#)
        #expect(errors == ["personalizations.0.to.0.email", "from", "subject", "content.0.value"])
    }

    @Test func limits() throws {
        var request = try decode(Self.valid)
        request.personalizations = Array(repeating: .init(to: [.init(email: "x@y.test")]), count: 1001)
        #expect(MailSendValidation.errors(in: request, now: Self.now).map(\.field) == ["personalizations", "personalizations"])
        request = try decode(Self.valid)
        request.customArgs = ["k": String(repeating: "v", count: 10_000)]
        #expect(MailSendValidation.errors(in: request, now: Self.now).map(\.field) == ["custom_args"])
        // Subjects in every personalization stand in for the top-level one.
        request = try decode(Self.valid)
        request.subject = nil
        request.personalizations = [.init(to: [.init(email: "x@y.test")], subject: "own")]
        #expect(MailSendValidation.errors(in: request, now: Self.now).isEmpty)
    }

    @Test func errorBodyIsSendGridsShape() throws {
        let body = APIError.Body(errors: [APIError("Does not contain a valid address.", field: "from.email"), APIError.badKey])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(body), as: UTF8.self)
        #expect(json.hasPrefix(#"{"errors":[{"field":"from.email","message":"Does not contain a valid address."}"#))
    }

    @Test func personalizationsBecomeMessages() throws {
        let request = try decode(
            """
            {"personalizations":[
               {"to":[{"email":"bob@example.net","name":"Bob"}],"bcc":[{"email":"audit@example.test"}],"substitutions":{"-name-":"Bob"},
                "custom_args":{"order":"1"}},
               {"to":[{"email":"carol@example.net"}],"subject":"For Carol","substitutions":{"-name-":"Carol -name-"}}],
             "from":{"email":"shop@example.test","name":"Shop"},"subject":"Hi -name-","reply_to":{"email":"help@example.test"},
             "content":[{"type":"text/plain","value":"Dear -name-"},{"type":"text/html","value":"<p>Dear -name-</p>"}],
             "custom_args":{"campaign":"autumn","order":"0"},"headers":{"X-Campaign":"autumn"}}
            """)
        #expect(MailSendValidation.errors(in: request, now: Self.now).isEmpty)
        let messages = request.messages(messageID: { "<m\($0)@example.test>" }, date: "Mon, 30 Nov 2026 10:00:00 +0000")
        #expect(messages.count == 2)
        #expect(messages[0].recipients == ["bob@example.net", "audit@example.test"])
        #expect(messages[0].composed.subject == "Hi Bob" && messages[0].composed.contents.map(\.value) == ["Dear Bob", "<p>Dear Bob</p>"])
        #expect(messages[0].customArgs == ["campaign": "autumn", "order": "1"])
        // A substitution whose value holds its own key is applied once, not forever.
        #expect(messages[1].composed.subject == "For Carol" && messages[1].composed.contents[0].value == "Dear Carol -name-")
        let rendered = String(decoding: messages[0].composed.render { "b\($0)" }, as: UTF8.self)
        #expect(rendered.contains("To: Bob <bob@example.net>\r\n") && !rendered.contains("audit@example.test"))
        #expect(rendered.contains("Reply-To: help@example.test\r\n") && rendered.contains("X-Campaign: autumn\r\n"))
    }
}
