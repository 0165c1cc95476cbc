/// Cuts a client's byte stream into whole IMAP commands, literals included (RFC 9051 §2.2.1,
/// §4.3; LITERAL+ / LITERAL- of RFC 7888). A command is lines joined by literals: a line that
/// ends in `{n}` (synchronizing: the server answers `+` first) or `{n+}` (non-synchronizing) is
/// followed by n octets of literal data and then the rest of the command. Pure and incremental:
/// bytes in, events out; each byte is looked at once; memory is bounded by the limits.
public struct IMAPCommandFramer: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Octets of one line, literal data not counted (RFC 7162 §4 asks for at least 8192).
        public var maximumLineLength: Int
        /// Octets of one literal (APPEND's message: the largest message a mailbox takes).
        public var maximumLiteral: Int
        /// Octets of a whole command, literals included.
        public var maximumCommand: Int

        public init(maximumLineLength: Int = 65_536, maximumLiteral: Int = 64 * 1024 * 1024, maximumCommand: Int = 72 * 1024 * 1024) {
            self.maximumLineLength = maximumLineLength
            self.maximumLiteral = maximumLiteral
            self.maximumCommand = maximumCommand
        }
    }

    public enum Event: Equatable, Sendable {
        /// A whole command, from its tag through the final CRLF, literals inside.
        case command([UInt8])
        /// A synchronizing literal was announced and fits: send `+ …` so the client sends it.
        case continuationNeeded
        /// A line longer than the limit; the rest of it is discarded up to its CRLF. Answer
        /// `BAD` (the tag, when it could be read).
        case lineTooLong(tag: String?)
        /// A literal over the limit. Synchronizing: the client waits for `+`, which is never
        /// sent; answer `NO [TOOBIG]` and go on. Non-synchronizing (`mustClose`): the data is
        /// already on its way; answer `BAD` and close the connection (RFC 7888 §4).
        case literalTooLarge(tag: String?, mustClose: Bool)
    }

    /// Raised after login: a client that has not logged in may send only small literals.
    public var limits: Limits
    /// The command being assembled (from its tag).
    private var command: [UInt8] = []
    /// Octets of the current line so far.
    private var lineLength = 0
    /// Literal octets still to come.
    private var literalRemaining = 0
    /// Discarding the rest of an over-long line.
    private var discarding = false
    /// Whether the last octet appended to the current line was CR.
    private var sawCR = false
    private var events: [Event] = []

    /// A command is partly received (a literal announced, or its data in progress).
    public var isMidCommand: Bool { !command.isEmpty || literalRemaining > 0 }

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Feeds received bytes; returns the events they complete, in order.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [Event] {
        for byte in bytes { consume(byte) }
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    private mutating func consume(_ byte: UInt8) {
        if literalRemaining > 0 {
            command.append(byte)
            literalRemaining -= 1
            return
        }
        if discarding {
            if sawCR && byte == 0x0A {
                discarding = false
                sawCR = false
            } else {
                sawCR = byte == 0x0D
            }
            return
        }
        command.append(byte)
        lineLength += 1
        if sawCR && byte == 0x0A {
            sawCR = false
            lineEnded()
            return
        }
        sawCR = byte == 0x0D
        if lineLength > limits.maximumLineLength + 2 {
            events.append(.lineTooLong(tag: Self.tag(of: command)))
            command.removeAll(keepingCapacity: true)
            lineLength = 0
            discarding = true
        }
    }

    /// A CRLF ended a line: the command ends here unless the line announces a literal.
    private mutating func lineEnded() {
        lineLength = 0
        guard let literal = Self.literalAnnouncement(command.dropLast(2)) else {
            events.append(.command(command))
            command = []
            return
        }
        let tag = Self.tag(of: command)
        if literal.size > limits.maximumLiteral || command.count + literal.size > limits.maximumCommand {
            events.append(.literalTooLarge(tag: tag, mustClose: !literal.synchronizing))
            command.removeAll(keepingCapacity: true)
            return
        }
        if literal.synchronizing { events.append(.continuationNeeded) }
        literalRemaining = literal.size
        command.reserveCapacity(command.count + literal.size)
    }

    /// `{n}` or `{n+}` at the end of a line (RFC 9051 §9 `literal`, RFC 7888 `literal8`'s `~`
    /// prefix is part of the token before it and needs nothing here).
    static func literalAnnouncement(_ line: ArraySlice<UInt8>) -> (size: Int, synchronizing: Bool)? {
        guard line.last == UInt8(ascii: "}") else { return nil }
        var index = line.index(before: line.endIndex)
        var synchronizing = true
        if index > line.startIndex, line[line.index(before: index)] == UInt8(ascii: "+") {
            synchronizing = false
            index = line.index(before: index)
        }
        var digits = 0
        var size = 0
        var position = index
        while position > line.startIndex {
            let byte = line[line.index(before: position)]
            guard byte >= 0x30 && byte <= 0x39 else { break }
            position = line.index(before: position)
            digits += 1
        }
        // At most 10 digits (a 32-bit number, RFC 9051 `number`), then the opening brace.
        guard digits > 0, digits <= 10, position > line.startIndex, line[line.index(before: position)] == UInt8(ascii: "{") else { return nil }
        for byte in line[position..<index] { size = size * 10 + Int(byte - 0x30) }
        guard size <= Int(UInt32.max) else { return nil }
        return (size, synchronizing)
    }

    /// The tag: the command's first word, when it is a valid tag (RFC 9051 `tag`).
    static func tag(of command: [UInt8]) -> String? {
        var tag: [UInt8] = []
        for byte in command.prefix(64) {
            if byte == 0x20 { break }
            // tag = 1*<any ASTRING-CHAR except "+">; no CTL, no list or quoted specials.
            guard byte > 0x20, byte < 0x7F, !"(){%*\"\\+".utf8.contains(byte) else { return nil }
            tag.append(byte)
        }
        return tag.isEmpty || tag.count == 64 ? nil : String(decoding: tag, as: UTF8.self)
    }
}
