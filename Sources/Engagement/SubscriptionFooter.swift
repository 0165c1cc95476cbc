import Foundation
import MailCore
/// SendGrid's subscription tracking footer: a text and an HTML footer whose `<% … %>` marks
/// where the unsubscribe link goes (in HTML the words inside become the link; in text the URL
/// replaces the mark), or, with a substitution tag, the URL put wherever the sender wrote the
/// tag and no footer added.
public struct SubscriptionFooter: Sendable, Equatable {
    public var url: String
    public var html: String
    public var text: String
    public var substitutionTag: String?

    public static let defaultText = "If you would like to unsubscribe and stop receiving these emails click here: <% %>."
    public static let defaultHTML = "<p>If you would like to unsubscribe and stop receiving these emails <% click here %>.</p>"

    public init(url: String, html: String? = nil, text: String? = nil, substitutionTag: String? = nil) {
        self.url = url
        self.html = html ?? Self.defaultHTML
        self.text = text ?? Self.defaultText
        self.substitutionTag = substitutionTag.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The HTML footer with its link (the URL escaped for an attribute; the words as written).
    public var renderedHTML: String {
        Self.replacingMark(in: html) { words in
            let label = words.isEmpty ? Self.escaped(url) : words
            return "<a href=\"\(Self.escaped(url))\">\(label)</a>"
        }
    }

    /// The text footer with the URL where the mark is.
    public var renderedText: String { Self.replacingMark(in: text) { _ in url } }

    /// `<% words %>` (the first one) replaced; a footer without a mark gets the link at its end.
    static func replacingMark(in template: String, _ link: (String) -> String) -> String {
        guard let open = template.range(of: "<%"), let close = template.range(of: "%>", range: open.upperBound..<template.endIndex) else {
            return template + " " + link("")
        }
        let words = template[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
        return String(template[..<open.lowerBound]) + link(words) + String(template[close.upperBound...])
    }

    static func escaped(_ text: String) -> String { HTMLText.escaped(text) }
}
