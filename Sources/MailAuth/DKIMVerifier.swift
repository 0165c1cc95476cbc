import Crypto
import CryptoExtras
import DNSClient
import Foundation
import MailCore

/// The outcome of one DKIM-Signature (RFC 6376 §6.1, reported as RFC 8601 §2.7.1 names it).
public struct DKIMResult: Sendable, Equatable {
    public enum Status: String, Sendable {
        case pass, fail, neutral, temperror, permerror
    }

    public var status: Status
    /// Why it is not a pass, for the Authentication-Results comment and the logs.
    public var reason: String?
    public var domain: String?
    public var selector: String?
    public var identity: String?
    public var algorithm: DKIMAlgorithm?
    /// `l=` was used and the body goes on past what was signed: content may have been appended.
    public var bodyLengthLimited: Bool = false
    /// The key's size in bits (RSA) or 256 (Ed25519).
    public var keyBits: Int?
    /// The key record says `t=y`.
    public var testing: Bool = false

    public init(status: Status, reason: String? = nil, domain: String? = nil, selector: String? = nil, identity: String? = nil) {
        self.status = status
        self.reason = reason
        self.domain = domain
        self.selector = selector
        self.identity = identity
    }
}

/// Verifies every DKIM-Signature of a message (RFC 6376 §6), keys fetched through a
/// `DNSResolver`; rsa-sha256 (keys of 1024 bits and more, RFC 8301 §3.2) and ed25519-sha256
/// (RFC 8463).
public struct DKIMVerifier: Sendable {
    public let resolver: any DNSResolver
    /// Signatures looked at, at most (a message with hundreds would cost hundreds of lookups).
    public var maximumSignatures: Int
    /// Unix seconds, for `x=`.
    public var now: @Sendable () -> Int

    public init(resolver: any DNSResolver, maximumSignatures: Int = 10, now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.resolver = resolver
        self.maximumSignatures = maximumSignatures
        self.now = now
    }

    /// One result per DKIM-Signature field, in message order; empty when the message has none.
    public func verify(_ message: [UInt8]) async -> [DKIMResult] {
        let header = MessageHeader(parsing: message)
        var results: [DKIMResult] = []
        for (index, field) in header.fields.enumerated() where field.name.lowercased() == "dkim-signature" {
            if results.count == maximumSignatures { break }
            results.append(await verify(field: field, at: index, header: header, message: message))
        }
        return results
    }

    func verify(field: RawHeaderField, at fieldIndex: Int, header: MessageHeader, message: [UInt8]) async -> DKIMResult {
        let signature: DKIMSignature
        do {
            signature = try DKIMSignature(parsing: String(decoding: field.rawValue, as: UTF8.self))
        } catch {
            // What can still be read goes into the report.
            let tags = try? TagList(parsing: String(decoding: field.rawValue, as: UTF8.self))
            return DKIMResult(status: .permerror, reason: error.description, domain: tags?["d"]?.lowercased(), selector: tags?["s"])
        }
        var result = DKIMResult(status: .fail, domain: signature.domain, selector: signature.selector, identity: signature.identity)
        result.algorithm = signature.algorithm
        func finish(_ status: DKIMResult.Status, _ reason: String?) -> DKIMResult {
            result.status = status
            result.reason = reason
            return result
        }
        if let x = signature.expiration, x < now() { return finish(.fail, "signature expired") }

        // The key (§6.1.2).
        guard let keyName = try? DNSName("\(signature.selector)._domainkey.\(signature.domain)") else {
            return finish(.permerror, "invalid key name \(signature.selector)._domainkey.\(signature.domain)")
        }
        let texts: [String]
        do {
            let answer = try await resolver.query(keyName, .txt)
            texts = answer.records.compactMap {
                if case .txt(let strings) = $0.data { return String(decoding: strings.joined(), as: UTF8.self) }
                return nil
            }
        } catch {
            return finish(.temperror, "key lookup for \(keyName) failed: \(error)")
        }
        guard !texts.isEmpty else { return finish(.permerror, "no key for signature at \(keyName)") }
        var record: DKIMKeyRecord?
        var keyError = DKIMPermanentError("no key")
        for text in texts {
            do {
                record = try DKIMKeyRecord(parsing: text)
                break
            } catch {
                keyError = error
            }
        }
        guard let key = record else { return finish(.permerror, keyError.description) }
        result.testing = key.testing
        guard !key.publicKey.isEmpty else { return finish(.permerror, "key revoked") }
        guard key.keyType == signature.algorithm.keyType else {
            return finish(.permerror, "key type \(key.keyType) does not match algorithm \(signature.algorithm.rawValue)")
        }
        if let hashes = key.hashAlgorithms, !hashes.contains("sha256") { return finish(.permerror, "key does not allow sha256") }
        if key.strictIdentity {
            let identityDomain = signature.identity.split(separator: "@").last.map { $0.lowercased() } ?? ""
            guard identityDomain == signature.domain else { return finish(.permerror, "key requires i= domain to equal d=") }
        }

        // The body hash (§3.7).
        let body = signature.bodyCanonicalization.body(message[min(header.bodyStart, message.count)...])
        var hashed = body[...]
        if let limit = signature.bodyLength {
            guard limit <= body.count else { return finish(.fail, "l= is longer than the body") }
            hashed = body[..<limit]
            result.bodyLengthLimited = limit < body.count
        }
        guard Array(SHA256.hash(data: hashed)) == signature.bodyHash else { return finish(.fail, "body hash did not verify") }

        // The header hash (§3.7, §5.4.2): each listed name takes that field's last unused
        // instance, from the bottom; a name with none left contributes nothing.
        var data = DKIMHeaderHash.input(
            header: header, excluding: fieldIndex, signedHeaders: signature.signedHeaders, canonicalization: signature.headerCanonicalization)
        data += DKIMHeaderHash.signatureField(field, canonicalization: signature.headerCanonicalization)
        let digest = SHA256.hash(data: data)

        switch signature.algorithm {
        case .rsaSHA256:
            let publicKey: _RSA.Signing.PublicKey
            do {
                publicKey = try _RSA.Signing.PublicKey(unsafeDERRepresentation: key.publicKey)
            } catch {
                return finish(.permerror, "unusable RSA key (keys under 1024 bits are refused, RFC 8301)")
            }
            result.keyBits = publicKey.keySizeInBits
            let valid = publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature.signature), for: digest, padding: .insecurePKCS1v1_5)
            return valid ? finish(.pass, nil) : finish(.fail, "signature did not verify")
        case .ed25519SHA256:
            guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.publicKey) else {
                return finish(.permerror, "unusable Ed25519 key")
            }
            result.keyBits = 256
            // RFC 8463 §3: Ed25519 signs the SHA-256 hash, not the data itself.
            let valid = publicKey.isValidSignature(signature.signature, for: Array(digest))
            return valid ? finish(.pass, nil) : finish(.fail, "signature did not verify")
        }
    }
}

/// The data a DKIM signature covers, shared by signing and verifying.
enum DKIMHeaderHash {
    static func input(header: MessageHeader, excluding: Int?, signedHeaders: [String], canonicalization: DKIMCanonicalization) -> [UInt8] {
        // The header indexed once by name, so the work is linear in the fields and h= names
        // however many of either an attacker sends (not one scan of the header per name).
        var byName: [String: [Int]] = [:]
        for (index, field) in header.fields.enumerated() where index != excluding {
            byName[field.name.lowercased(), default: []].append(index)
        }
        var data: [UInt8] = []
        for name in signedHeaders {
            // RFC 6376 §5.4.2: repeated names take the instances from the bottom up; a name
            // with none left signs as empty (contributes nothing).
            guard let index = byName[name.lowercased()]?.popLast() else { continue }
            data += canonicalization.header(header.fields[index])
        }
        return data
    }

    /// The DKIM-Signature field itself with its b= value emptied, canonicalized, without the
    /// final CRLF (§3.7 step 2).
    static func signatureField(_ field: RawHeaderField, canonicalization: DKIMCanonicalization) -> [UInt8] {
        var raw = Array(field.raw)
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return [] }
        var valueEnd = raw.count
        if valueEnd > 0 && raw[valueEnd - 1] == 0x0A { valueEnd -= 1 }
        if valueEnd > 0 && raw[valueEnd - 1] == 0x0D { valueEnd -= 1 }
        var segmentStart = colon + 1
        while segmentStart <= valueEnd {
            var segmentEnd = segmentStart
            while segmentEnd < valueEnd && raw[segmentEnd] != UInt8(ascii: ";") { segmentEnd += 1 }
            if let equals = raw[segmentStart..<segmentEnd].firstIndex(of: UInt8(ascii: "=")) {
                let name = raw[segmentStart..<equals].filter { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A) }
                if name == [UInt8(ascii: "b")] {
                    raw.removeSubrange((equals + 1)..<segmentEnd)
                    break
                }
            }
            segmentStart = segmentEnd + 1
        }
        var out = canonicalization.header(RawHeaderField(name: field.name, raw: raw[...]))
        if out.count >= 2 && out[out.count - 2] == 0x0D && out[out.count - 1] == 0x0A { out.removeLast(2) }
        return out
    }
}
