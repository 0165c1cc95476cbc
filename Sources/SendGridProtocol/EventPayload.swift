import Foundation
import MailCore

/// What the store knows about one event, in the terms SendGrid's event shape needs.
public struct EventFacts: Hashable, Sendable {
    public var id: Int
    /// Unix seconds.
    public var at: Int
    /// Tern's event type: `queued`, `delivered`, `deferred`, `bounced`, `dropped`.
    public var kind: String
    public var email: String
    public var sgMessageID: String
    /// The message's Message-ID field (SendGrid's `smtp-id`).
    public var smtpID: String?
    /// The last SMTP reply, as one line (`550 5.1.1 No such user`).
    public var reply: String?
    /// `host[address]` of the server delivered to.
    public var mxHost: String?
    /// The TLS version used, nil for plaintext.
    public var tls: String?
    public var attempt: Int?
    public var categories: [String]
    public var customArgs: [String: String]
    public var asmGroupID: Int?
    /// Why a `dropped` message was not sent (SendGrid's reason strings).
    public var dropReason: String?
    /// The message went to a sandbox inbox: its events say `"sandbox": true`.
    public var sandbox = false
    /// An open's or click's own fields (`useragent`, `ip`, `url`, `url_offset`,
    /// `sg_machine_open`), as recorded.
    public var details: [String: JSONValue] = [:]

    public init(
        id: Int, at: Int, kind: String, email: String, sgMessageID: String, smtpID: String? = nil, reply: String? = nil, mxHost: String? = nil,
        tls: String? = nil, attempt: Int? = nil, categories: [String] = [], customArgs: [String: String] = [:], asmGroupID: Int? = nil,
        dropReason: String? = nil
    ) {
        self.id = id
        self.at = at
        self.kind = kind
        self.email = email
        self.sgMessageID = sgMessageID
        self.smtpID = smtpID
        self.reply = reply
        self.mxHost = mxHost
        self.tls = tls
        self.attempt = attempt
        self.categories = categories
        self.customArgs = customArgs
        self.asmGroupID = asmGroupID
        self.dropReason = dropReason
    }
}

/// Events as SendGrid's Event Webhook and activity API write them: `email`, `timestamp`,
/// `event`, `sg_event_id`, `sg_message_id`, `smtp-id`, `category`, custom args as top-level
/// keys, and each type's own fields.
public enum EventPayload {
    /// SendGrid's name for a Tern event type; nil for types that are not reported (`delivering`).
    public static func eventName(_ kind: String) -> String? {
        switch kind {
        case "queued": "processed"
        case "delivered": "delivered"
        case "deferred": "deferred"
        case "bounced": "bounce"
        case "dropped": "dropped"
        case "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe", "spamreport": kind
        default: nil
        }
    }

    /// The fields an engagement event may carry from its details.
    static let engagementKeys: Set<String> = ["useragent", "ip", "url", "url_offset", "sg_machine_open", "asm_group_id"]

    /// Details stored as a JSON object's text; empty for none or for text that is not one.
    public static func details(json: String?) -> [String: JSONValue] {
        guard let json, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), case .object(let members) = value else {
            return [:]
        }
        return members
    }

    /// Keys of SendGrid's own; a custom arg with one of these names does not replace it.
    static let reservedKeys: Set<String> = [
        "email", "timestamp", "event", "sg_event_id", "sg_message_id", "smtp-id", "category", "asm_group_id", "response", "attempt", "ip",
        "tls", "type", "status", "reason", "bounce_classification", "useragent", "url", "url_offset", "sg_machine_open", "sandbox",
    ]

    /// The event as a JSON object; nil for a type that is not reported.
    public static func object(_ facts: EventFacts) -> [String: JSONValue]? {
        guard let name = eventName(facts.kind) else { return nil }
        var object: [String: JSONValue] = [:]
        for (key, value) in facts.customArgs where !reservedKeys.contains(key) { object[key] = .string(value) }
        object["email"] = .string(facts.email)
        object["timestamp"] = .int(facts.at)
        object["event"] = .string(name)
        object["sg_event_id"] = .string(sgEventID(facts.id))
        object["sg_message_id"] = .string(facts.sgMessageID)
        if let smtpID = facts.smtpID { object["smtp-id"] = .string(smtpID) }
        // SendGrid writes one category as a string and several as an array.
        if facts.categories.count == 1 { object["category"] = .string(facts.categories[0]) }
        if facts.categories.count > 1 { object["category"] = .array(facts.categories.map(JSONValue.string)) }
        if let group = facts.asmGroupID { object["asm_group_id"] = .int(group) }
        if facts.sandbox { object["sandbox"] = .bool(true) }
        switch name {
        case "deferred":
            object["response"] = .string(facts.reply ?? "")
            object["attempt"] = .string(String(facts.attempt ?? 1))
        case "delivered":
            object["response"] = .string(facts.reply ?? "")
            object["tls"] = .int(facts.tls == nil ? 0 : 1)
            if let ip = facts.mxHost.flatMap(address(of:)) { object["ip"] = .string(ip) }
        case "bounce":
            let status = enhancedStatus(in: facts.reply ?? "") ?? "5.0.0"
            let classification = bounceClassification(status: status)
            object["type"] = .string(classification == "Reputation" || classification == "Content" ? "blocked" : "bounce")
            object["status"] = .string(status)
            object["reason"] = .string(facts.reply ?? "")
            object["bounce_classification"] = .string(classification)
        case "dropped":
            object["reason"] = .string(facts.dropReason ?? facts.reply ?? "Invalid")
        case "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe", "spamreport":
            for (key, value) in facts.details where engagementKeys.contains(key) { object[key] = value }
        default:
            break
        }
        return object
    }

    /// A stable id per event row, so a receiver can drop a redelivered event.
    public static func sgEventID(_ id: Int) -> String { "tern-" + String(id, radix: 36) }

    /// The address inside `host[address]`.
    static func address(of peer: String) -> String? {
        guard let open = peer.lastIndex(of: "["), peer.hasSuffix("]") else { return nil }
        return String(peer[peer.index(after: open)..<peer.index(before: peer.endIndex)])
    }

    /// The enhanced status code (RFC 3463) of a reply line, e.g. "5.1.1" in "550 5.1.1 …".
    public static func enhancedStatus(in reply: String) -> String? { EnhancedStatusText(reply: reply)?.description }

    /// SendGrid's bounce classification of an enhanced status code (RFC 3463 §3.3–3.9).
    public static func bounceClassification(status: String) -> String {
        let parts = status.split(separator: ".")
        guard parts.count == 3 else { return "Unclassified" }
        switch (parts[1], parts[2]) {
        case ("1", _): return "Invalid Address"  // X.1.Z addressing status
        case ("2", _): return "Mailbox Unavailable"  // X.2.Z mailbox status (full, disabled)
        case ("3", "4"), ("6", _): return "Content"  // too big for the system; content or media
        case ("3", _), ("4", _), ("5", _): return "Technical"  // mail system, network, protocol
        case ("7", _): return "Reputation"  // X.7.Z security or policy (blocked)
        default: return "Unclassified"
        }
    }
}
