import Foundation

/// SendGrid's `X-SMTPAPI` header field: JSON that lets an SMTP sender set what the send API's
/// body sets (`category`, `unique_args`, `asm_group_id`, tracking `filters`). Tern reads those and removes
/// the field before the message is signed or delivered; anything else in it is ignored, as is
/// a field that is not JSON.
public struct SMTPAPIHeader: Hashable, Sendable {
    public var categories: [String] = []
    public var customArgs: [String: String] = [:]
    public var asmGroupID: Int?
    /// `filters.opentrack` and `filters.clicktrack`.
    public var tracking = TrackingSettings()

    /// The longest field value read; a longer one is ignored whole.
    public static let maximumLength = 16 * 1024

    public init(categories: [String] = [], customArgs: [String: String] = [:], asmGroupID: Int? = nil) {
        self.categories = categories
        self.customArgs = customArgs
        self.asmGroupID = asmGroupID
    }

    /// Reads an unfolded field value; nil when it is not a JSON object (or too long).
    /// Categories beyond SendGrid's limits (10, each ≤ 255 characters) and custom args beyond
    /// 10,000 bytes are left out, not refused: SMTP has no way to say which field was wrong.
    public init?(value: String) {
        guard value.utf8.count <= Self.maximumLength,
            let object = try? JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any]
        else { return nil }
        switch object["category"] {
        case let one as String: categories = [one]
        case let many as [Any]: categories = many.compactMap { $0 as? String }
        default: break
        }
        categories = Array(categories.filter { !$0.isEmpty && $0.count <= MailSendValidation.maximumCategoryLength }.prefix(MailSendValidation.maximumCategories))
        // `unique_args` is SendGrid's SMTP name for custom args; `custom_args` is accepted too.
        let args = (object["unique_args"] as? [String: Any]) ?? (object["custom_args"] as? [String: Any]) ?? [:]
        var size = 0
        for key in args.keys.sorted() {
            let text: String
            switch args[key] {
            case let string as String: text = string
            case let number as NSNumber: text = number.stringValue
            default: continue
            }
            size += key.utf8.count + text.utf8.count
            guard size <= MailSendValidation.maximumCustomArgsBytes else { break }
            customArgs[key] = text
        }
        if let group = object["asm_group_id"] as? NSNumber, group.intValue > 0 { asmGroupID = group.intValue }
        if object["filters"] is [String: Any], let data = try? JSONSerialization.data(withJSONObject: object["filters"]!),
            let filters = try? JSONDecoder().decode(JSONValue.self, from: data)
        {
            tracking = TrackingSettings(filters: filters)
        }
    }
}
