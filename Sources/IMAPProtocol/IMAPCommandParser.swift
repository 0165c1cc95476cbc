/// Reads whole commands (from `IMAPCommandFramer`) into `IMAPCommand`s by RFC 9051 §9's
/// grammar. Strict where the grammar is (one space between elements, CRLF at the end), so a
/// malformed command is a `BAD` that names what was expected, never a guess.
public enum IMAPCommandParser {
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
            throw r.failure("COPY, MOVE or EXPUNGE after UID")
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
            var condstore = false
            if r.peek == 0x20 {
                try r.space()
                // select-params (RFC 4466): only CONDSTORE is known here; QRESYNC comes later.
                let parameters = try r.list(allowEmpty: false, maximum: 10) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) in try r.atom().uppercased() }
                guard parameters == ["CONDSTORE"] else { throw r.failure("(CONDSTORE)") }
                condstore = true
            }
            return examine ? .examine(mailbox: mailbox, condstore: condstore) : .select(mailbox: mailbox, condstore: condstore)
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
        if r.take("LIST") || r.take("LSUB") {
            let lsub = r.lastKeyword == "LSUB"
            try r.space()
            let reference = try r.astring()
            try r.space()
            let pattern = try listMailbox(&r)
            return lsub ? .lsub(reference: reference, pattern: pattern) : .list(reference: reference, pattern: pattern)
        }
        if r.take("STATUS") {
            try r.space()
            let mailbox = try r.astring()
            try r.space()
            let items = try r.list(allowEmpty: false, maximum: 20) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) in
                let name = try r.atom().uppercased()
                guard let item = IMAPCommand.StatusItem(rawValue: name) else { throw r.failure("a STATUS item") }
                return item
            }
            return .status(mailbox: mailbox, items: items)
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
