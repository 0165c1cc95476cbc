/// An IMAP sequence set (RFC 9051 §9, `sequence-set`): message numbers or UIDs as numbers and
/// ranges, `*` for the largest in use, or `$` for the last SEARCH result (SEARCHRES, RFC 5182).
public struct SequenceSet: Hashable, Sendable, CustomStringConvertible {
    /// One end of a range: a number, or `*`.
    public enum Bound: Hashable, Sendable {
        case number(UInt32)
        case last

        func resolved(_ largest: UInt32) -> UInt32 {
            switch self {
            case .number(let n): n
            case .last: largest
            }
        }
    }

    public enum Element: Hashable, Sendable {
        case single(Bound)
        case range(Bound, Bound)
    }

    public var elements: [Element]
    /// `$`: the saved search result.
    public var isSavedResult: Bool

    /// The most elements one set may have: far beyond what clients send (they compress to
    /// ranges), small enough that work per set stays bounded.
    public static let maximumElements = 10_000

    public init(elements: [Element]) {
        self.elements = elements
        self.isSavedResult = false
    }

    public static let savedResult: SequenceSet = {
        var set = SequenceSet(elements: [])
        set.isSavedResult = true
        return set
    }()

    /// Parses the whole text; nil when it is not a sequence set (zero is not a valid number).
    public init?(parsing text: Substring) {
        if text == "$" {
            self = .savedResult
            return
        }
        var elements: [Element] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard elements.count < Self.maximumElements else { return nil }
            let ends = part.split(separator: ":", omittingEmptySubsequences: false)
            switch ends.count {
            case 1:
                guard let bound = Self.bound(ends[0]) else { return nil }
                elements.append(.single(bound))
            case 2:
                guard let low = Self.bound(ends[0]), let high = Self.bound(ends[1]) else { return nil }
                elements.append(.range(low, high))
            default:
                return nil
            }
        }
        self.init(elements: elements)
    }

    static func bound(_ text: Substring) -> Bound? {
        if text == "*" { return .last }
        // nz-number: no leading zero, fits in 32 bits (RFC 9051 §9).
        guard let first = text.first, first != "0", text.count <= 10, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = UInt64(text), value <= UInt64(UInt32.max)
        else { return nil }
        return .number(UInt32(value))
    }

    /// Whether `number` is in the set when `largest` is the largest number in use (what `*`
    /// stands for). A range is the same whichever end is written first.
    public func contains(_ number: UInt32, largest: UInt32) -> Bool {
        for element in elements {
            switch element {
            case .single(let bound) where bound.resolved(largest) == number: return true
            case .range(let a, let b):
                let (x, y) = (a.resolved(largest), b.resolved(largest))
                if min(x, y) <= number && number <= max(x, y) { return true }
            default: continue
            }
        }
        return false
    }

    /// The set as closed ranges over `1...largest`, merged and sorted: what a command walks.
    public func ranges(largest: UInt32) -> [ClosedRange<UInt32>] {
        var ranges: [ClosedRange<UInt32>] = elements.map { element in
            switch element {
            case .single(let bound):
                let n = bound.resolved(largest)
                return n...n
            case .range(let a, let b):
                let (x, y) = (a.resolved(largest), b.resolved(largest))
                return min(x, y)...max(x, y)
            }
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges {
            // Overlapping or adjacent ranges join (no overflow: a range ending at the largest
            // UInt32 swallows everything after it).
            if let last = merged.last, last.upperBound == .max || range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    public var description: String {
        if isSavedResult { return "$" }
        func text(_ bound: Bound) -> String {
            switch bound {
            case .number(let n): String(n)
            case .last: "*"
            }
        }
        return elements.map { element in
            switch element {
            case .single(let bound): text(bound)
            case .range(let a, let b): "\(text(a)):\(text(b))"
            }
        }.joined(separator: ",")
    }
}
