import ArgumentParser
import Foundation
import MailCore
import MailStore
import TernServer

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Inspect and manage the mail queue.", subcommands: [List.self, Show.self, Retry.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued messages and their recipients.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print stable JSON.") var json = false

        func run() async throws {
            let messages = try await operation { try await options.environment().store.listQueue() }
            if json {
                printJSON(messages.map(queueJSON))
                return
            }
            var rows: [[String]] = []
            for message in messages {
                for (i, recipient) in message.recipients.enumerated() {
                    rows.append([
                        i == 0 ? message.id : "", i == 0 ? String(message.size) : "",
                        i == 0 ? MessageDate.rfc3339(unixSeconds: message.createdAt) : "",
                        i == 0 ? "<\(message.from)>" : "", recipient.address, recipient.state.rawValue,
                    ])
                }
            }
            printTable(header: ["ID", "SIZE", "CREATED", "FROM", "RECIPIENT", "STATE"], rows: rows)
            print("\(messages.count) message\(messages.count == 1 ? "" : "s")")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one queued message: envelope, recipients and content.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The queue id.") var id: String
        @Flag(help: "Print JSON: the message as in `queue list --json`, its events and its content as text.") var json = false
        @Flag(help: "Print the content's bytes as they are, control characters included.") var raw = false

        func run() async throws {
            let environment = try await options.environment()
            guard let message = try await operation({ try await environment.store.queuedMessage(id: id) }) else {
                throw OperationFailure(message: "no queued message \(id)")
            }
            if json {
                var object = queueJSON(message)
                object["client"] = message.clientAddress as Any? ?? NSNull()
                object["helo"] = message.heloName as Any? ?? NSNull()
                object["authenticated_as"] = message.authenticatedAs as Any? ?? NSNull()
                object["events"] = try await operation({ try await environment.store.events(messageID: id) }).map { event -> [String: Any] in
                    [
                        "at": MessageDate.rfc3339(unixSeconds: event.at), "type": event.type, "recipient": event.recipient,
                        "mx": event.mxHost as Any? ?? NSNull(), "tls": event.tls as Any? ?? NSNull(), "reply": event.reply as Any? ?? NSNull(),
                    ]
                }
                let content = try await operation { try await environment.store.content(id: id) }
                object["content"] = content.map { String(decoding: $0, as: UTF8.self) } as Any? ?? NSNull()
                let deleted = try await operation { try await environment.store.contentDeletedAt(id: id) }
                object["content_deleted_at"] = deleted.map { MessageDate.rfc3339(unixSeconds: $0) } as Any? ?? NSNull()
                printJSON(object)
                return
            }
            // Everything but the id came from the network: escaped unless --raw, so a message
            // cannot drive the terminal it is shown on.
            func safe(_ text: String) -> String { raw ? text : TerminalText.escaped(text) }
            print("id: \(message.id)")
            print("from: <\(safe(message.from.description))>")
            print("size: \(message.size)")
            print("created_at: \(MessageDate.rfc3339(unixSeconds: message.createdAt))")
            if let messageID = message.messageID { print("message_id: \(safe(messageID))") }
            if let client = message.clientAddress { print("client: \(client) (\(safe(message.heloName ?? "")))") }
            if let account = message.authenticatedAs { print("authenticated_as: \(account)") }
            for recipient in message.recipients {
                var line = "recipient: <\(safe(recipient.address))> \(recipient.state.rawValue) attempts=\(recipient.attempts)"
                if let reply = recipient.lastReply { line += " last_reply=\"\(safe(reply))\"" }
                if let next = recipient.nextAttemptAt, recipient.state == .deferred || recipient.state == .queued {
                    line += " next_attempt=\(MessageDate.rfc3339(unixSeconds: next))"
                }
                print(line)
            }
            // Each attempt: when, the outcome, the host that answered, TLS and the reply.
            for event in try await operation({ try await environment.store.events(messageID: id) }) {
                var line = "event: \(MessageDate.rfc3339(unixSeconds: event.at)) \(event.type) <\(safe(event.recipient))>"
                if let host = event.mxHost { line += " mx=\(safe(host))" }
                if event.type != "queued" { line += " tls=\(event.tls ?? "none")" }
                if let reply = event.reply { line += " reply=\"\(safe(reply))\"" }
                print(line)
            }
            if let content = try await operation({ try await environment.store.content(id: id) }) {
                print("")
                fflush(nil)
                if raw {
                    FileHandle.standardOutput.write(Data(content))
                } else {
                    print(TerminalText.escaped(content, lineBreaks: .keep), terminator: "")
                }
            } else if let deleted = try await operation({ try await environment.store.contentDeletedAt(id: id) }) {
                print("content: deleted \(MessageDate.rfc3339(unixSeconds: deleted)) (every recipient finished; no mailbox holds it)")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Try queued and deferred recipients again now (a running server picks them up within seconds).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The queue id.") var id: String?
        @Flag(help: "Every message in the queue.") var all = false

        func validate() throws {
            guard (id != nil) != all else { throw ValidationError("give a queue id or --all") }
        }

        func run() async throws {
            let store = try await options.environment().store
            if let id, try await operation({ try await store.queuedMessage(id: id) }) == nil {
                throw OperationFailure(message: "no queued message \(id)")
            }
            let count = try await operation { try await store.retryNow(id: id, at: MessageDate.nowUnixSeconds()) }
            print("\(count) recipient\(count == 1 ? "" : "s") scheduled for delivery now.")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a message from the queue without delivering it.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The queue id.") var id: String

        func run() async throws {
            let removed = try await operation { try await options.environment().store.removeQueued(id: id) }
            guard removed else { throw OperationFailure(message: "no queued message \(id)") }
            print("Removed \(id).")
        }
    }
}

/// DESIGN.md: `{id, message_id, from, size, created_at, recipients: [{address, state, attempts, last_reply}]}`.
func queueJSON(_ message: QueuedMessage) -> [String: Any] {
    [
        "id": message.id,
        "message_id": message.messageID as Any? ?? NSNull(),
        "from": message.from.description,
        "size": message.size,
        "created_at": MessageDate.rfc3339(unixSeconds: message.createdAt),
        "recipients": message.recipients.map { recipient -> [String: Any] in
            [
                "address": recipient.address,
                "state": recipient.state.rawValue,
                "attempts": recipient.attempts,
                "last_reply": recipient.lastReply as Any? ?? NSNull(),
            ]
        },
    ]
}
