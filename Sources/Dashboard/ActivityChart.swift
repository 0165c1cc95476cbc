import MailCore

/// The overview's 30-day chart, drawn on the server as inline SVG (no script): one polyline
/// per series over a shared scale, with the numbers also in a table beside it, so the chart
/// reads without JavaScript, in a screen reader, and in a test that compares it with
/// `/v3/stats`. Pure: values in, markup out; every text is escaped.
struct ActivityChart {
    struct Series {
        var name: String
        /// A CSS class choosing the line's colour (`s0`…`s5`).
        var style: String
        var values: [Int]
    }

    /// Unix seconds of each day's 00:00 UTC, oldest first.
    var days: [Int]
    var series: [Series]

    static let width = 720
    static let height = 240
    static let margin = 36

    /// The largest value, rounded up to a readable top for the axis (1, 2 or 5 × 10ⁿ).
    static func axisTop(_ maximum: Int) -> Int {
        guard maximum > 0 else { return 1 }
        var step = 1
        while true {
            for factor in [1, 2, 5] where step * factor >= maximum { return step * factor }
            step *= 10
        }
    }

    var svg: String {
        let top = Self.axisTop(series.flatMap(\.values).max() ?? 0)
        let plotWidth = Double(Self.width - 2 * Self.margin)
        let plotHeight = Double(Self.height - 2 * Self.margin)
        let count = max(days.count - 1, 1)
        func x(_ index: Int) -> Double { Double(Self.margin) + plotWidth * Double(index) / Double(count) }
        func y(_ value: Int) -> Double { Double(Self.height - Self.margin) - plotHeight * Double(value) / Double(top) }
        func number(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) }
        var out = "<svg class=\"chart\" viewBox=\"0 0 \(Self.width) \(Self.height)\" role=\"img\" aria-labelledby=\"chart-title\">"
        out += "<title id=\"chart-title\">Daily activity, last \(days.count) days</title>"
        // Axes and the top value.
        out += "<line class=\"axis\" x1=\"\(Self.margin)\" y1=\"\(Self.height - Self.margin)\" x2=\"\(Self.width - Self.margin)\" y2=\"\(Self.height - Self.margin)\"/>"
        out += "<line class=\"axis\" x1=\"\(Self.margin)\" y1=\"\(Self.margin)\" x2=\"\(Self.margin)\" y2=\"\(Self.height - Self.margin)\"/>"
        out += "<text class=\"label\" x=\"4\" y=\"\(Self.margin + 4)\">\(top)</text><text class=\"label\" x=\"4\" y=\"\(Self.height - Self.margin + 4)\">0</text>"
        if let first = days.first, let last = days.last {
            out += "<text class=\"label\" x=\"\(Self.margin)\" y=\"\(Self.height - 10)\">\(HTMLText.escaped(MessageDate.day(unixSeconds: first)))</text>"
            out += "<text class=\"label end\" x=\"\(Self.width - Self.margin)\" y=\"\(Self.height - 10)\">\(HTMLText.escaped(MessageDate.day(unixSeconds: last)))</text>"
        }
        for line in series {
            let points = line.values.enumerated().map { "\(number(x($0.offset))),\(number(y($0.element)))" }.joined(separator: " ")
            out += "<polyline class=\"line \(HTMLText.escaped(line.style))\" points=\"\(points)\"><title>\(HTMLText.escaped(line.name))</title></polyline>"
        }
        out += "</svg>"
        return out
    }

    /// The same numbers as a table: one row per day, one column per series.
    var table: String {
        var out = "<div class=\"scroll\"><table class=\"chart-data\"><caption>Daily numbers</caption><thead><tr><th scope=\"col\">Day</th>"
        for line in series { out += "<th scope=\"col\">\(HTMLText.escaped(line.name))</th>" }
        out += "</tr></thead><tbody>"
        for (index, day) in days.enumerated() {
            out += "<tr><th scope=\"row\">\(HTMLText.escaped(MessageDate.day(unixSeconds: day)))</th>"
            for line in series { out += "<td>\(index < line.values.count ? line.values[index] : 0)</td>" }
            out += "</tr>"
        }
        out += "</tbody></table></div>"
        return out
    }
}
