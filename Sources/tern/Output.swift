import ArgumentParser
import Foundation
import MailCore

/// An account address from the command line (a mailbox at a domain name), or bad usage.
func accountAddress(_ text: String) throws -> MailboxAddress {
    guard let address = try? MailboxAddress(parsing: text, allowUTF8: true), address.domain.kind == .name else {
        throw ValidationError("\(text) is not a valid address")
    }
    return address
}

/// Stable JSON: sorted keys, no escaped slashes, one trailing newline.
func printJSON(_ value: Any) {
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    else { return }
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// An aligned text table with a header row.
func printTable(header: [String], rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows {
        for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}
