import ArgumentParser
import Foundation
import MailCore
import MailStore
import MailStoreSQLite
import TernServer

struct MailboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox", abstract: "Look into users' mailboxes.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A user's folders, or one folder's messages with --folder.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Option(help: "List the messages of this folder.") var folder: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let address = try accountAddress(email).normalized
            let store = try await options.environment().store
            let folders = try await operation { try await store.mailboxes(user: address) }
            guard !folders.isEmpty else { throw OperationFailure(message: "\(address) has no mailboxes (no such user?)") }
            if let folder {
                guard let mailbox = folders.first(where: { $0.name.lowercased() == folder.lowercased() }) else {
                    throw OperationFailure(message: "\(address) has no folder \(folder)")
                }
                let messages = try await operation { try await store.messages(mailboxID: mailbox.id) }
                if json {
                    var entries: [[String: Any]] = []
                    for message in messages {
                        // The header's Message-ID and Subject, as stored (RFC 5322 §3.6.4, §3.6.5).
                        let content = try await operation { try await store.content(mailboxID: mailbox.id, uid: message.uid) } ?? []
                        let header = HeaderFields.firstValue(named: "Message-ID", in: content)?.trimmingCharacters(in: .whitespaces)
                        let subject = HeaderFields.firstValue(named: "Subject", in: content)?.trimmingCharacters(in: .whitespaces)
                        entries.append([
                            "uid": message.uid, "folder": mailbox.name, "size": message.size, "flags": message.flags,
                            "internal_date": MessageDate.rfc3339(unixSeconds: message.internalDate), "queue_id": message.messageID,
                            "message_id": header as Any? ?? NSNull(), "subject": subject as Any? ?? NSNull(),
                        ])
                    }
                    printJSON(entries)
                } else {
                    printTable(
                        header: ["UID", "SIZE", "DATE", "FLAGS"],
                        rows: messages.map { ["\($0.uid)", "\($0.size)", MessageDate.rfc3339(unixSeconds: $0.internalDate), $0.flags.joined(separator: " ")] })
                }
                return
            }
            let (bytes, quota) = try await operation { try store.usage(user: address) }
            if json {
                printJSON([
                    "user": address, "bytes": bytes, "quota": quota as Any,
                    "folders": folders.map { ["name": $0.name, "messages": $0.messages, "bytes": $0.size, "uidvalidity": $0.uidValidity, "uidnext": $0.uidNext] },
                ] as [String: Any])
            } else {
                printTable(
                    header: ["FOLDER", "MESSAGES", "BYTES", "UIDVALIDITY", "UIDNEXT"],
                    rows: folders.map { [$0.name, "\($0.messages)", "\($0.size)", "\($0.uidValidity)", "\($0.uidNext)"] })
                print("used \(bytes) bytes" + (quota.map { " of a \($0)-byte quota" } ?? ", no quota"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one message as the user would download it.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user's address.") var email: String
        @Argument(help: "The message's UID.") var uid: Int
        @Option(help: "The folder (default INBOX).") var folder = "INBOX"
        @Flag(help: "Print JSON: uid, folder, size, flags, internal_date and the content as text.") var json = false
        @Flag(help: "Print the bytes as they are, control characters included.") var raw = false

        func run() async throws {
            let address = try accountAddress(email).normalized
            let store = try await options.environment().store
            guard let mailbox = try await operation({ try await store.mailbox(user: address, name: folder) }) else {
                throw OperationFailure(message: "\(address) has no folder \(folder)")
            }
            guard let content = try await operation({ try await store.content(mailboxID: mailbox.id, uid: uid) }) else {
                throw OperationFailure(message: "no message with UID \(uid) in \(folder) of \(address)")
            }
            if json {
                let message = try await operation { try await store.messages(mailboxID: mailbox.id) }.first { $0.uid == uid }
                printJSON([
                    "uid": uid, "folder": mailbox.name, "size": content.count, "flags": message?.flags ?? [],
                    "internal_date": message.map { MessageDate.rfc3339(unixSeconds: $0.internalDate) } as Any? ?? NSNull(),
                    "content": String(decoding: content, as: UTF8.self),
                ] as [String: Any])
                return
            }
            // A message can hold terminal escape sequences: shown escaped unless --raw.
            if raw {
                FileHandle.standardOutput.write(Data(content))
            } else {
                print(TerminalText.escaped(content, lineBreaks: .keep), terminator: "")
            }
        }
    }
}
