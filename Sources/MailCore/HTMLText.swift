/// Text put into HTML: `& < > " '` as character references, so no content can become markup
/// or leave an attribute. `handlebars` also escapes `` ` `` and `=`, as Handlebars does for
/// `{{value}}` (dynamic templates render exactly as SendGrid's).
public enum HTMLText {
    public static func escaped(_ text: String, handlebars: Bool = false) -> String {
        let special: (UInt8) -> Bool = { byte in
            byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22 || byte == 0x27 || (handlebars && (byte == 0x60 || byte == 0x3D))
        }
        guard text.utf8.contains(where: special) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += handlebars ? "&#x27;" : "&#39;"
            case "`" where handlebars: out += "&#x60;"
            case "=" where handlebars: out += "&#x3D;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
