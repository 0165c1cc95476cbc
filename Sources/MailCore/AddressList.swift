/// The addr-specs of an RFC 5322 address list (§3.4), e.g. a From: field's value:
/// `"Doe, John" <john@example.com>, jane@example.org (Jane)`. Display names, quoted strings and
/// comments are skipped; groups give their members.
public enum AddressList {
    public static func addrSpecs(in value: String) -> [String] {
        var items: [String] = []
        var current = ""
        var angle = ""
        var inQuotes = false
        var inAngle = false
        var sawAngle = false
        var commentDepth = 0
        var escaped = false
        func finish() {
            let spec = sawAngle ? angle : current
            let trimmed = spec.trimmingSpaces()
            if !trimmed.isEmpty { items.append(trimmed) }
            current = ""
            angle = ""
            sawAngle = false
        }
        for c in value {
            if escaped {
                escaped = false
                if inAngle { angle.append(c) } else if !inQuotes && commentDepth == 0 { current.append(c) }
                continue
            }
            if c == "\\" && (inQuotes || commentDepth > 0) {
                escaped = true
                continue
            }
            if commentDepth > 0 {
                if c == "(" { commentDepth += 1 } else if c == ")" { commentDepth -= 1 }
                continue
            }
            if inQuotes {
                if c == "\"" { inQuotes = false }
                if inAngle { angle.append(c) } else { current.append(c) }
                continue
            }
            switch c {
            case "\"":
                inQuotes = true
                if inAngle { angle.append(c) } else { current.append(c) }
            case "(":
                commentDepth = 1
            case "<":
                inAngle = true
                sawAngle = true
                angle = ""
            case ">":
                inAngle = false
            case ",", ";":
                if inAngle { angle.append(c) } else { finish() }
            case ":" where !inAngle:
                // "group-name:" — what came before was the group's display name.
                current = ""
            default:
                if inAngle { angle.append(c) } else { current.append(c) }
            }
        }
        finish()
        // A bare item may still carry a display-name-less quoted phrase; keep addr-specs only.
        return items.filter { $0.contains("@") }.map { $0.filter { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" } }
    }
}
