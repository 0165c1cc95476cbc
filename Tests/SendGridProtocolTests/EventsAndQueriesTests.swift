import Foundation
import Testing

@testable import SendGridProtocol

/// The event mapping table: each Tern event type as SendGrid's Event Webhook writes it.
@Suite struct EventPayloadTests {
    let base = EventFacts(
        id: 1234, at: 1_796_000_000, kind: "queued", email: "bob@dest.test", sgMessageID: "REQ.3", smtpID: "<REQ.0@mx.example.test>",
        categories: ["welcome"], customArgs: ["user_id": "42", "event": "spoof"], asmGroupID: 7)

    func object(_ change: (inout EventFacts) -> Void) throws -> [String: JSONValue] {
        var facts = base
        change(&facts)
        return try #require(EventPayload.object(facts))
    }

    @Test func commonFieldsAndCustomArgs() throws {
        let processed = try object { _ in }
        #expect(processed["event"] == .string("processed"))
        #expect(processed["email"] == .string("bob@dest.test"))
        #expect(processed["timestamp"] == .int(1_796_000_000))
        #expect(processed["sg_message_id"] == .string("REQ.3"))
        #expect(processed["sg_event_id"] == .string("tern-" + String(1234, radix: 36)))
        #expect(processed["smtp-id"] == .string("<REQ.0@mx.example.test>"))
        #expect(processed["category"] == .string("welcome"))
        #expect(processed["asm_group_id"] == .int(7))
        // Custom args are top-level keys, but never replace SendGrid's own.
        #expect(processed["user_id"] == .string("42"))
        let several = try object { $0.categories = ["a", "b"] }
        #expect(several["category"] == .array([.string("a"), .string("b")]))
        #expect(try object { $0.categories = [] }["category"] == nil)
    }

    @Test(arguments: [
        // (Tern type, reply, SendGrid event, bounce type, status, classification)
        ("deferred", "451 4.4.1 Connection refused", "deferred", nil, nil, nil),
        ("delivered", "250 2.0.0 Ok: queued", "delivered", nil, nil, nil),
        ("bounced", "550 5.1.1 No such user", "bounce", "bounce", "5.1.1", "Invalid Address"),
        ("bounced", "552 5.2.2 Mailbox full", "bounce", "bounce", "5.2.2", "Mailbox Unavailable"),
        ("bounced", "554 5.7.1 Blocked by policy", "bounce", "blocked", "5.7.1", "Reputation"),
        ("bounced", "550 5.6.0 Content rejected", "bounce", "blocked", "5.6.0", "Content"),
        ("bounced", "554 5.4.4 Unable to route", "bounce", "bounce", "5.4.4", "Technical"),
        ("bounced", "550 no enhanced code here", "bounce", "bounce", "5.0.0", "Unclassified"),
    ] as [(String, String, String, String?, String?, String?)])
    func typesMapAsSendGridNamesThem(kind: String, reply: String, event: String, type: String?, status: String?, classification: String?) throws {
        let payload = try object {
            $0.kind = kind
            $0.reply = reply
            $0.attempt = 3
            $0.mxHost = "mx.dest.test[192.0.2.7]"
            $0.tls = "TLSv1.3"
        }
        #expect(payload["event"] == .string(event))
        #expect(payload["type"] == type.map(JSONValue.string))
        #expect(payload["status"] == status.map(JSONValue.string))
        #expect(payload["bounce_classification"] == classification.map(JSONValue.string))
        switch event {
        case "deferred":
            #expect(payload["response"] == .string(reply) && payload["attempt"] == .string("3"))
        case "delivered":
            #expect(payload["response"] == .string(reply) && payload["tls"] == .int(1) && payload["ip"] == .string("192.0.2.7"))
        case "bounce":
            #expect(payload["reason"] == .string(reply))
        default:
            Issue.record("unexpected \(event)")
        }
    }

    @Test func unreportedTypesAndDrops() {
        var facts = base
        facts.kind = "delivering"
        #expect(EventPayload.object(facts) == nil)
        facts.kind = "dropped"
        facts.dropReason = "Bounced Address"
        #expect(EventPayload.object(facts)?["reason"] == .string("Bounced Address"))
    }

    @Test func enhancedStatusCodes() {
        #expect(EventPayload.enhancedStatus(in: "550 5.1.1 User unknown") == "5.1.1")
        #expect(EventPayload.enhancedStatus(in: "451 4.7.650 throttled") == "4.7.650")
        #expect(EventPayload.enhancedStatus(in: "550 User unknown") == nil)
        #expect(EventPayload.enhancedStatus(in: "550 6.1.1 x") == nil)
        #expect(EventPayload.enhancedStatus(in: "") == nil)
    }
}

@Suite struct ActivityQueryTests {
    @Test func conditionsJoinedByAnd() throws {
        let query = try ActivityQuery(parsing: #"to_email="a@b.test" AND status="delivered"  and subject = "Hi \"you\"""#)
        #expect(query.toEmail == "a@b.test" && query.status == "delivered" && query.subject == #"Hi "you""#)
        #expect(try ActivityQuery(parsing: "").toEmail == nil)
        #expect(try ActivityQuery(parsing: #"msg_id="X.1""#).messageID == "X.1")
    }

    @Test(arguments: [
        #"to_email="a@b.test" OR status="delivered""#, #"to_email=a@b.test"#, #"to_email="unterminated"#, #"="x""#,
        #"to_email="a" status="b""#, "AND", #"to_email"#,
    ])
    func malformedQueriesAreSyntaxErrors(text: String) {
        #expect(throws: ActivityQuery.Failure.self) { try ActivityQuery(parsing: text) }
    }

    @Test func unknownKeysStatusesAndLength() {
        #expect(throws: ActivityQuery.Failure.unknownKey("teammate")) { try ActivityQuery(parsing: #"teammate="x""#) }
        #expect(throws: ActivityQuery.Failure.badStatus("lost")) { try ActivityQuery(parsing: #"status="lost""#) }
        #expect(throws: ActivityQuery.Failure.tooLong) { try ActivityQuery(parsing: String(repeating: "a", count: 3000)) }
    }
}

@Suite struct SMTPAPIHeaderTests {
    @Test func categoriesArgsAndGroup() throws {
        let header = try #require(SMTPAPIHeader(value: #"{"category":["news","weekly"],"unique_args":{"user":"7","n":3},"asm_group_id":12}"#))
        #expect(header.categories == ["news", "weekly"])
        #expect(header.customArgs == ["user": "7", "n": "3"])
        #expect(header.asmGroupID == 12)
        #expect(SMTPAPIHeader(value: #"{"category":"one"}"#)?.categories == ["one"])
        #expect(SMTPAPIHeader(value: #"{"custom_args":{"a":"b"}}"#)?.customArgs == ["a": "b"])
    }

    @Test func badOrOversizedFieldsAreIgnoredOrTrimmed() {
        #expect(SMTPAPIHeader(value: "not json") == nil)
        #expect(SMTPAPIHeader(value: "[1,2]") == nil)
        #expect(SMTPAPIHeader(value: String(repeating: " ", count: 20_000) + "{}") == nil)
        let many = (0..<20).map { "\"c\($0)\"" }.joined(separator: ",")
        #expect(SMTPAPIHeader(value: "{\"category\":[\(many)]}")?.categories.count == 10)
        let long = String(repeating: "x", count: 256)
        #expect(SMTPAPIHeader(value: "{\"category\":[\"\(long)\",\"ok\"]}")?.categories == ["ok"])
    }
}

@Suite struct StatsMetricsTests {
    @Test func metricsAreEventCounts() {
        let metrics = StatsMetrics(
            counts: ["queued": 5, "delivered": 3, "deferred": 2, "bounced": 2, "dropped": 1],
            bounceReplies: ["550 5.1.1 No such user", "554 5.7.1 Spam"])
        #expect(metrics.processed == 5 && metrics.delivered == 3 && metrics.deferred == 2)
        #expect(metrics.bounces == 1 && metrics.blocks == 1)
        #expect(metrics.requests == 5)
        #expect((metrics + metrics).delivered == 6)
        let encoded = String(decoding: try! JSONEncoder().encode(StatsMetrics()), as: UTF8.self)
        for name in ["bounce_drops", "invalid_emails", "spam_report_drops", "unique_opens", "unsubscribe_drops", "requests"] {
            #expect(encoded.contains("\"\(name)\":0"), "\(name)")
        }
    }
}
