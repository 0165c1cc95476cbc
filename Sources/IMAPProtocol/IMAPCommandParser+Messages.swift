/// FETCH, STORE, APPEND and SEARCH: the commands with their own small grammars.
extension IMAPCommandParser {
    /// Nested parentheses, NOT and OR in a SEARCH may go this deep (each level is a stack frame).
    static let maximumSearchDepth = 32

    static func fetch(_ r: inout IMAPTokenReader, uid: Bool) throws(IMAPTokenReader.Failure) -> IMAPCommand.Kind {
        try r.space()
        let set = try r.sequenceSet()
        try r.space()
        var attributes: [FetchAttribute]
        if r.take("ALL") {
            attributes = [.flags, .internalDate, .rfc822Size, .envelope]
        } else if r.take("FAST") {
            attributes = [.flags, .internalDate, .rfc822Size]
        } else if r.take("FULL") {
            attributes = [.flags, .internalDate, .rfc822Size, .envelope, .body]
        } else if r.peek == UInt8(ascii: "(") {
            attributes = try r.list(allowEmpty: false, maximum: 100) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> FetchAttribute in
                try fetchAttribute(&r)
            }
        } else {
            attributes = [try fetchAttribute(&r)]
        }
        var changedSince: UInt64?
        var vanished = false
        if r.peek == 0x20 {
            try r.space()
            _ = try r.list(allowEmpty: false, maximum: 4) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> Bool in
                if r.take("CHANGEDSINCE") {
                    try r.space()
                    changedSince = try r.number64()
                } else if r.take("VANISHED") {
                    vanished = true
                } else {
                    throw r.failure("CHANGEDSINCE or VANISHED")
                }
                return true
            }
        }
        // RFC 7162 §3.2.6: VANISHED only with CHANGEDSINCE, only for UID FETCH.
        if vanished && (changedSince == nil || !uid) { throw r.failure("VANISHED only with CHANGEDSINCE in UID FETCH") }
        if changedSince != nil, !attributes.contains(.modSeq) { attributes.append(.modSeq) }
        return .fetch(set, attributes: attributes, changedSince: changedSince, vanished: vanished, uid: uid)
    }

    static func fetchAttribute(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> FetchAttribute {
        if r.takePrefix("BODY.PEEK[") { return try bodySection(&r, peek: true) }
        if r.takePrefix("BODY[") { return try bodySection(&r, peek: false) }
        if r.takePrefix("BINARY.PEEK[") { return try binary(&r, peek: true) }
        if r.takePrefix("BINARY.SIZE[") {
            let part = try sectionPart(&r)
            try r.expect(UInt8(ascii: "]"))
            return .binarySize(part: part)
        }
        if r.takePrefix("BINARY[") { return try binary(&r, peek: false) }
        let simple: [(String, FetchAttribute)] = [
            ("BODYSTRUCTURE", .bodyStructure), ("BODY", .body), ("ENVELOPE", .envelope), ("FLAGS", .flags),
            ("INTERNALDATE", .internalDate), ("RFC822.SIZE", .rfc822Size), ("RFC822.HEADER", .rfc822Header), ("RFC822.TEXT", .rfc822Text),
            ("RFC822", .rfc822), ("UID", .uid), ("MODSEQ", .modSeq),
        ]
        for (name, attribute) in simple where r.take(name) {
            return attribute
        }
        throw r.failure("a FETCH item")
    }

    static func bodySection(_ r: inout IMAPTokenReader, peek: Bool) throws(IMAPTokenReader.Failure) -> FetchAttribute {
        let part = try sectionPart(&r)
        var text = FetchAttribute.Section.Text.none
        if !part.isEmpty && r.peek == UInt8(ascii: ".") { try r.expect(UInt8(ascii: ".")) }
        if r.peek != UInt8(ascii: "]") {
            if r.take("HEADER.FIELDS.NOT") || r.take("HEADER.FIELDS") {
                let not = r.lastKeyword == "HEADER.FIELDS.NOT"
                try r.space()
                let names = try r.list(allowEmpty: false, maximum: 200) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> String in
                    String(decoding: try r.astring(), as: UTF8.self).uppercased()
                }
                text = not ? .headerFieldsNot(names) : .headerFields(names)
            } else if r.take("HEADER") {
                text = .header
            } else if r.take("TEXT") {
                text = .text
            } else if !part.isEmpty, r.take("MIME") {
                text = .mime
            } else {
                throw r.failure("HEADER, HEADER.FIELDS, TEXT or MIME")
            }
        }
        try r.expect(UInt8(ascii: "]"))
        return .bodySection(FetchAttribute.Section(part: part, text: text), partial: try partial(&r), peek: peek)
    }

    static func binary(_ r: inout IMAPTokenReader, peek: Bool) throws(IMAPTokenReader.Failure) -> FetchAttribute {
        let part = try sectionPart(&r)
        try r.expect(UInt8(ascii: "]"))
        return .binary(part: part, partial: try partial(&r), peek: peek)
    }

    /// `nz-number *("." nz-number)`, stopping before a "." that is not followed by a digit.
    static func sectionPart(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> [Int] {
        var part: [Int] = []
        while let byte = r.peek, byte >= 0x31 && byte <= 0x39 {
            part.append(Int(try r.nonZeroNumber()))
            guard part.count <= 100 else { throw r.failure("at most 100 part numbers") }
            let mark = r.position
            if r.peek == UInt8(ascii: ".") {
                try r.expect(UInt8(ascii: "."))
                if let next = r.peek, next >= 0x31 && next <= 0x39 { continue }
                r.rewind(to: mark)
            }
            break
        }
        return part
    }

    static func partial(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> FetchAttribute.Partial? {
        guard r.peek == UInt8(ascii: "<") else { return nil }
        try r.expect(UInt8(ascii: "<"))
        let origin = try r.number()
        try r.expect(UInt8(ascii: "."))
        let count = try r.nonZeroNumber()
        try r.expect(UInt8(ascii: ">"))
        return FetchAttribute.Partial(origin: origin, count: count)
    }

    /// STORE set [(UNCHANGEDSINCE n)] (+|-)FLAGS[.SILENT] (flags) (RFC 9051 §6.4.6, RFC 7162 §3.1.3).
    static func store(_ r: inout IMAPTokenReader, uid: Bool) throws(IMAPTokenReader.Failure) -> IMAPCommand.Kind {
        try r.space()
        let set = try r.sequenceSet()
        try r.space()
        var unchangedSince: UInt64?
        if r.peek == UInt8(ascii: "(") {
            _ = try r.list(allowEmpty: false, maximum: 1) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> Bool in
                guard r.take("UNCHANGEDSINCE") else { throw r.failure("UNCHANGEDSINCE") }
                try r.space()
                unchangedSince = try r.number64()
                return true
            }
            try r.space()
        }
        var operation = IMAPCommand.StoreFlags.Operation.replace
        if r.peek == UInt8(ascii: "+") {
            try r.expect(UInt8(ascii: "+"))
            operation = .add
        } else if r.peek == UInt8(ascii: "-") {
            try r.expect(UInt8(ascii: "-"))
            operation = .remove
        }
        guard r.take("FLAGS.SILENT") || r.take("FLAGS") else { throw r.failure("FLAGS or FLAGS.SILENT") }
        let silent = r.lastKeyword == "FLAGS.SILENT"
        try r.space()
        let flags: [String]
        if r.peek == UInt8(ascii: "(") {
            flags = try r.list(maximum: 100) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> String in try r.flag() }
        } else {
            var loose: [String] = []
            repeat {
                if !loose.isEmpty { try r.space() }
                loose.append(try r.flag())
            } while r.peek == 0x20 && loose.count < 100
            flags = loose
        }
        return .store(set, IMAPCommand.StoreFlags(operation: operation, silent: silent, flags: flags), unchangedSince: unchangedSince, uid: uid)
    }

    /// APPEND mailbox [(flags)] ["date-time"] literal (RFC 9051 §6.3.12; `~{n}` per RFC 3516).
    static func append(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> IMAPCommand.Kind {
        try r.space()
        let mailbox = try r.astring()
        try r.space()
        var flags: [String] = []
        if r.peek == UInt8(ascii: "(") {
            flags = try r.list(maximum: 100) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> String in try r.flag() }
            try r.space()
        }
        var date: Int?
        if r.peek == UInt8(ascii: "\"") {
            let text = String(decoding: try r.quoted(), as: UTF8.self)
            guard let seconds = IMAPDate.parseDateTime(text) else { throw r.failure("a date-time like \"01-Feb-2024 13:05:00 +0100\"") }
            date = seconds
            try r.space()
        }
        // RFC 6855 §4: a UTF-8 message (UTF8=ACCEPT) comes as `UTF8 (literal8)`.
        if r.take("UTF8") {
            try r.space()
            try r.expect(UInt8(ascii: "("))
            let message = try r.literal()
            try r.expect(UInt8(ascii: ")"))
            return .append(mailbox: mailbox, flags: flags, date: date, message: message)
        }
        let message = try r.literal()
        return .append(mailbox: mailbox, flags: flags, date: date, message: message)
    }

    /// SEARCH [RETURN (…)] [CHARSET x] key *(SP key).
    static func search(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> SearchCommand {
        try r.space()
        var returnOptions: [SearchCommand.ReturnOption]?
        if r.take("RETURN") {
            try r.space()
            returnOptions = try r.list(maximum: 5) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> SearchCommand.ReturnOption in
                guard let option = SearchCommand.ReturnOption(rawValue: try r.atom().uppercased()) else { throw r.failure("MIN, MAX, ALL, COUNT or SAVE") }
                return option
            }
            // RFC 4731 §3.1: an empty list means ALL.
            if returnOptions == [] { returnOptions = [.all] }
            try r.space()
        }
        var charset: String?
        if r.take("CHARSET") {
            try r.space()
            charset = String(decoding: try r.astring(), as: UTF8.self).uppercased()
            try r.space()
        }
        var keys: [SearchKey] = [try searchKey(&r, depth: 0)]
        while r.peek == 0x20 {
            try r.space()
            keys.append(try searchKey(&r, depth: 0))
            guard keys.count <= 1000 else { throw r.failure("at most 1000 search keys") }
        }
        return SearchCommand(key: keys.count == 1 ? keys[0] : .and(keys), charset: charset, returnOptions: returnOptions)
    }

    static func searchKey(_ r: inout IMAPTokenReader, depth: Int) throws(IMAPTokenReader.Failure) -> SearchKey {
        guard depth < maximumSearchDepth else { throw r.failure("search keys nested at most \(maximumSearchDepth) deep") }
        if r.peek == UInt8(ascii: "(") {
            let keys = try r.list(allowEmpty: false, maximum: 1000) { (r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> SearchKey in
                try searchKey(&r, depth: depth + 1)
            }
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let byte = r.peek, (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "$") {
            return .sequence(try r.sequenceSet())
        }
        let flagKeys: [(String, SearchKey)] = [
            ("ALL", .all), ("ANSWERED", .answered), ("DELETED", .deleted), ("DRAFT", .draft), ("FLAGGED", .flagged), ("SEEN", .seen),
            ("UNANSWERED", .unanswered), ("UNDELETED", .undeleted), ("UNDRAFT", .undraft), ("UNFLAGGED", .unflagged), ("UNSEEN", .unseen),
            ("RECENT", .recent), ("NEW", .new), ("OLD", .old),
        ]
        for (name, key) in flagKeys where r.take(name) {
            return key
        }
        let stringKeys: [(String, ([UInt8]) -> SearchKey)] = [
            ("BCC", SearchKey.bcc), ("CC", SearchKey.cc), ("FROM", SearchKey.from), ("TO", SearchKey.to), ("SUBJECT", SearchKey.subject),
            ("BODY", SearchKey.body), ("TEXT", SearchKey.text),
        ]
        for (name, make) in stringKeys where r.take(name) {
            try r.space()
            return make(try r.astring())
        }
        let dateKeys: [(String, (Int) -> SearchKey)] = [
            ("BEFORE", SearchKey.before), ("ON", SearchKey.on), ("SINCE", SearchKey.since), ("SENTBEFORE", SearchKey.sentBefore),
            ("SENTON", SearchKey.sentOn), ("SENTSINCE", SearchKey.sentSince),
        ]
        for (name, make) in dateKeys where r.take(name) {
            try r.space()
            return make(try date(&r))
        }
        if r.take("KEYWORD") || r.take("UNKEYWORD") {
            let un = r.lastKeyword == "UNKEYWORD"
            try r.space()
            let keyword = try r.atom()
            return un ? .unkeyword(keyword) : .keyword(keyword)
        }
        if r.take("HEADER") {
            try r.space()
            let name = String(decoding: try r.astring(), as: UTF8.self)
            try r.space()
            return .header(name: name, value: try r.astring())
        }
        if r.take("LARGER") || r.take("SMALLER") {
            let larger = r.lastKeyword == "LARGER"
            try r.space()
            let size = try r.number()
            return larger ? .larger(size) : .smaller(size)
        }
        if r.take("UID") {
            try r.space()
            return .uid(try r.sequenceSet())
        }
        if r.take("NOT") {
            try r.space()
            return .not(try searchKey(&r, depth: depth + 1))
        }
        if r.take("OR") {
            try r.space()
            let a = try searchKey(&r, depth: depth + 1)
            try r.space()
            return .or(a, try searchKey(&r, depth: depth + 1))
        }
        if r.take("MODSEQ") {
            try r.space()
            // Optional entry name and type (RFC 7162 §3.1.5): accepted and ignored.
            if r.peek == UInt8(ascii: "\"") {
                _ = try r.quoted()
                try r.space()
                _ = try r.atom()
                try r.space()
            }
            return .modSeq(try r.number64())
        }
        throw r.failure("a search key")
    }

    /// `date`: `d-Mon-yyyy`, bare or quoted.
    static func date(_ r: inout IMAPTokenReader) throws(IMAPTokenReader.Failure) -> Int {
        let text: String
        if r.peek == UInt8(ascii: "\"") {
            text = String(decoding: try r.quoted(), as: UTF8.self)
        } else {
            text = try r.atom()
        }
        guard let days = IMAPDate.parseDate(text) else { throw r.failure("a date like 1-Feb-2024") }
        return days
    }
}
