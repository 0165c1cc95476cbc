/// Reads whole commands (from `IMAPCommandFramer`) into `IMAPCommand`s by RFC 9051 §9's
/// grammar. Strict where the grammar is (one space between elements, CRLF at the end), so a
/// malformed command is a `BAD` that names what was expected, never a guess.
public enum IMAPCommandParser {
    /// Whether a framed command is STARTTLS, so the connection stops framing behind it. A
    /// scan for the word first: most commands are not, and need not be parsed twice.
    public static func isStartTLS(_ bytes: [UInt8]) -> Bool {
        guard bytes.count < 64, SearchEvaluator.contains(bytes[...], startTLSWord) else { return false }
        if case .success(let command) = parse(bytes), command.kind == .startTLS { return true }
        return false
    }

    static let startTLSWord: [UInt8] = Array("STARTTLS".utf8)

    public static func parse(_ bytes: [UInt8]) -> Result<IMAPCommand, IMAPParseError> {
        var reader = IMAPTokenReader(bytes)
        guard let tag = IMAPCommandFramer.tag(of: bytes) else { return .failure(IMAPParseError(tag: nil, message: "Missing or invalid tag")) }
        do throws(IMAPTokenReader.Failure) {
            _ = try reader.atom()
            try reader.space()
            let kind = try command(&reader)
            try reader.end()
            return .success(IMAPCommand(tag: tag, kind: kind))
        } catch {
            switch error {
            case .expected(let what, let at): return .failure(IMAPParseError(tag: tag, message: "Expected \(what) at octet \(at)"))
            }
        }
    }

    static func command(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> IMAPCommand.Kind {
        if r.take("UID") {
            try r.space()
            if r.take("EXPUNGE") {
                try r.space()
                return .uidExpunge(try r.sequenceSet())
            }
            if r.take("COPY") { return try copyOrMove(&r, move: false, uid: true) }
            if r.take("MOVE") { return try copyOrMove(&r, move: true, uid: true) }
            if r.take("FETCH") { return try fetch(&r, uid: true) }
            if r.take("STORE") { return try store(&r, uid: true) }
            if r.take("SEARCH") { return .search(try search(&r), uid: true) }
            throw r.failure("COPY, MOVE, FETCH, STORE, SEARCH or EXPUNGE after UID")
        }
        for (name, kind) in [
            ("CAPABILITY", IMAPCommand.Kind.capability), ("NOOP", .noop), ("LOGOUT", .logout), ("STARTTLS", .startTLS),
            ("NAMESPACE", .namespace), ("IDLE", .idle), ("CHECK", .check), ("CLOSE", .close), ("UNSELECT", .unselect),
            ("EXPUNGE", .expunge),
        ] where r.take(name) {
            return kind
        }
        if r.take("AUTHENTICATE") {
            try r.space()
            let mechanism = try r.atom().uppercased()
            guard r.peek == 0x20 else { return .authenticate(mechanism: mechanism, initialResponse: nil) }
            try r.space()
            if r.peek == UInt8(ascii: "=") {
                try r.expect(UInt8(ascii: "="))
                return .authenticate(mechanism: mechanism, initialResponse: [])
            }
            return .authenticate(mechanism: mechanism, initialResponse: try base64Text(&r))
        }
        if r.take("LOGIN") {
            try r.space()
            let username = try r.astring()
            try r.space()
            return .login(username: username, password: try r.astring())
        }
        if r.take("ENABLE") {
            var capabilities: [String] = []
            repeat {
                try r.space()
                capabilities.append(try r.atom())
                guard capabilities.count <= 100 else { throw r.failure("at most 100 capabilities") }
            } while r.peek == 0x20
            return .enable(capabilities)
        }
        if r.take("SELECT") || r.take("EXAMINE") {
            let examine = r.lastKeyword == "EXAMINE"
            try r.space()
            let mailbox = try r.astring()
            var parameters = IMAPCommand.SelectParameters()
            if r.peek == 0x20 {
                try r.space()
                parameters = try selectParameters(&r)
            }
            return examine ? .examine(mailbox: mailbox, parameters) : .select(mailbox: mailbox, parameters)
        }
        for (name, make) in [
            ("CREATE", { IMAPCommand.Kind.create(mailbox: $0) }), ("DELETE", { .delete(mailbox: $0) }), ("SUBSCRIBE", { .subscribe(mailbox: $0) }),
            ("UNSUBSCRIBE", { .unsubscribe(mailbox: $0) }),
        ] as [(String, ([UInt8]) -> IMAPCommand.Kind)] where r.take(name) {
            try r.space()
            return make(try r.astring())
        }
        if r.take("RENAME") {
            try r.space()
            let from = try r.astring()
            try r.space()
            return .rename(from: from, to: try r.astring())
        }
        if r.take("LSUB") {
            try r.space()
            let reference = try r.astring()
            try r.space()
            return .lsub(reference: reference, pattern: try listMailbox(&r))
        }
        if r.take("LIST") { return .list(try list(&r)) }
        if r.take("STATUS") {
            try r.space()
            let mailbox = try r.astring()
            try r.space()
            return .status(mailbox: mailbox, items: try statusItems(&r))
        }
        if r.take("FETCH") { return try fetch(&r, uid: false) }
        if r.take("STORE") { return try store(&r, uid: false) }
        if r.take("SEARCH") { return .search(try search(&r), uid: false) }
        if r.take("APPEND") { return try append(&r) }
        if r.take("GETQUOTAROOT") {
            try r.space()
            return .getQuotaRoot(mailbox: try r.astring())
        }
        if r.take("GETQUOTA") {
            try r.space()
            return .getQuota(root: try r.astring())
        }
        if r.take("SETQUOTA") {
            try r.space()
            let root = try r.astring()
            try r.space()
            _ = try r.list { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> UInt64 in
                _ = try r.atom()
                try r.space()
                return try r.number64()
            }
            return .setQuota(root: root)
        }
        if r.take("COPY") { return try copyOrMove(&r, move: false, uid: false) }
        if r.take("MOVE") { return try copyOrMove(&r, move: true, uid: false) }
        if r.take("ID") {
            try r.space()
            if r.take("NIL") { return .id(nil) }
            let values = try r.list(allowEmpty: false, maximum: 60) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> [UInt8]? in
                try r.nstring()
            }
            // RFC 2971 §3.3: pairs, at most 30, names up to 30 octets, values up to 1024.
            guard values.count % 2 == 0 else { throw r.failure("field and value pairs") }
            var fields: [IMAPCommand.IDField] = []
            for index in stride(from: 0, to: values.count, by: 2) {
                guard let name = values[index], name.count <= 30, (values[index + 1]?.count ?? 0) <= 1024 else {
                    throw r.failure("a field name of at most 30 octets and a value of at most 1024")
                }
                fields.append(IMAPCommand.IDField(name: name, value: values[index + 1]))
            }
            return .id(fields)
        }
        throw r.failure("a known command")
    }

    static func statusItems(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> [IMAPCommand.StatusItem] {
        try r.list(allowEmpty: false, maximum: 20) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> IMAPCommand.StatusItem in
            let name = try r.atom().uppercased()
            guard let item = IMAPCommand.StatusItem(rawValue: name) else { throw r.failure("a STATUS item") }
            return item
        }
    }

    /// `(CONDSTORE)` and/or `(QRESYNC (uidvalidity modseq [known-uids] [(seqs uids)]))`.
    static func selectParameters(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> IMAPCommand.SelectParameters {
        var parameters = IMAPCommand.SelectParameters()
        _ = try r.list(allowEmpty: false, maximum: 4) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> Bool in
            if r.take("CONDSTORE") {
                parameters.condstore = true
                return true
            }
            guard r.take("QRESYNC") else { throw r.failure("CONDSTORE or QRESYNC") }
            try r.space()
            parameters.qresync = try qresync(&r)
            return true
        }
        return parameters
    }

    static func qresync(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> IMAPCommand.QResync {
        try r.expect(UInt8(ascii: "("))
        let validity = try r.nonZeroNumber()
        try r.space()
        let modSeq = try r.number64()
        var known: SequenceSet?
        var match: (SequenceSet, SequenceSet)?
        if r.peek == 0x20 {
            try r.space()
            if r.peek != UInt8(ascii: "(") {
                known = try r.sequenceSet()
                if r.peek == 0x20 { try r.space() }
            }
            if r.peek == UInt8(ascii: "(") {
                try r.expect(UInt8(ascii: "("))
                let sequences = try r.sequenceSet()
                try r.space()
                let uids = try r.sequenceSet()
                try r.expect(UInt8(ascii: ")"))
                match = (sequences, uids)
            }
        }
        try r.expect(UInt8(ascii: ")"))
        return IMAPCommand.QResync(uidValidity: validity, modSeq: modSeq, knownUIDs: known, sequenceMatch: match)
    }

    /// LIST [(selection)] reference (pattern | (patterns)) [RETURN (options)] (RFC 5258 §3).
    static func list(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> IMAPCommand.ListCommand {
        try r.space()
        var selection: [String] = []
        if r.peek == UInt8(ascii: "(") {
            selection = try r.list(maximum: 10) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> String in try r.atom().uppercased() }
            try r.space()
        }
        let reference = try r.astring()
        try r.space()
        var patterns: [[UInt8]]
        if r.peek == UInt8(ascii: "(") {
            patterns = try r.list(allowEmpty: false, maximum: 50) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> [UInt8] in try listMailbox(&r) }
        } else {
            patterns = [try listMailbox(&r)]
        }
        var returns: [String] = []
        var status: [IMAPCommand.StatusItem]?
        if r.peek == 0x20 {
            try r.space()
            guard r.take("RETURN") else { throw r.failure("RETURN") }
            try r.space()
            _ = try r.list(maximum: 10) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> Bool in
                let option = try r.atom().uppercased()
                if option == "STATUS" {
                    try r.space()
                    status = try statusItems(&r)
                } else {
                    returns.append(option)
                }
                return true
            }
        }
        return IMAPCommand.ListCommand(reference: reference, patterns: patterns, selection: selection, returns: returns, status: status)
    }

    static func copyOrMove(_ r: inout IMAPTokenReader, move: Bool, uid: Bool) throws(IMAPTokenReader.Failure) -> IMAPCommand.Kind {
        try r.space()
        let set = try r.sequenceSet()
        try r.space()
        let mailbox = try r.astring()
        return move ? .move(set, mailbox: mailbox, uid: uid) : .copy(set, mailbox: mailbox, uid: uid)
    }

    /// `list-mailbox`: list-chars (atom characters plus `%`, `*` and `]`) or a string.
    static func listMailbox(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> [UInt8] {
        if r.peek == UInt8(ascii: "\"") || r.peek == UInt8(ascii: "{") { return try r.string() }
        return try r.run(while: { IMAPTokenReader.isAtomChar($0) || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "]") }, "a mailbox pattern")
    }

    /// SASL-IR's initial response: base64 characters (RFC 4648) up to the end of the line.
    static func base64Text(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> [UInt8] {
        try r.run(
            while: { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "=") },
            "base64")
    }
}
