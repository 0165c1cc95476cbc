import Crypto
import CryptoExtras
import MailCore

/// A domain's private signing key and where its public half is published.
public struct DKIMSigningKey: Sendable {
    public enum Material: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public var domain: String
    public var selector: String
    public var material: Material

    public init(domain: String, selector: String, material: Material) {
        self.domain = domain.lowercased()
        self.selector = selector
        self.material = material
    }

    /// A new key: RSA 2048 bits (the default, RFC 8301 §3.2) or Ed25519.
    public static func generate(domain: String, selector: String, algorithm: DKIMAlgorithm = .rsaSHA256) throws -> DKIMSigningKey {
        switch algorithm {
        case .rsaSHA256: return DKIMSigningKey(domain: domain, selector: selector, material: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)))
        case .ed25519SHA256: return DKIMSigningKey(domain: domain, selector: selector, material: .ed25519(Curve25519.Signing.PrivateKey()))
        }
    }

    /// Loads a key stored by `storageText`: PEM for RSA, `ed25519:` + base64 seed for Ed25519.
    public init(domain: String, selector: String, storageText: String) throws {
        if storageText.hasPrefix("ed25519:") {
            guard let seed = Base64Text.decode(String(storageText.dropFirst(8))) else { throw DKIMPermanentError("bad Ed25519 key") }
            self.init(domain: domain, selector: selector, material: .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: seed)))
        } else {
            self.init(domain: domain, selector: selector, material: .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: storageText)))
        }
    }

    public var storageText: String {
        switch material {
        case .rsa(let key): return key.pemRepresentation
        case .ed25519(let key): return "ed25519:" + Base64Text.encode(key.rawRepresentation)
        }
    }

    public var algorithm: DKIMAlgorithm {
        if case .rsa = material { return .rsaSHA256 }
        return .ed25519SHA256
    }

    /// The TXT record to publish at `selector._domainkey.domain` (RFC 6376 §3.6.1).
    public var dnsRecord: String {
        switch material {
        case .rsa(let key): return "v=DKIM1; k=rsa; p=" + Base64Text.encode(key.publicKey.derRepresentation)
        case .ed25519(let key): return "v=DKIM1; k=ed25519; p=" + Base64Text.encode(key.publicKey.rawRepresentation)
        }
    }

    public var dnsName: String { "\(selector)._domainkey.\(domain)" }
}

/// Signs messages with relaxed/relaxed canonicalization (RFC 6376 §5), the usual choice: it
/// survives the whitespace changes relays make.
public enum DKIMSigner {
    /// Fields signed when present. From is signed once more than it occurs ("over-signed", §8.15)
    /// so that no From can be added after signing.
    public static let signedFieldNames = [
        "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc", "mime-version", "content-type",
        "content-transfer-encoding", "content-id", "content-description", "in-reply-to", "references", "list-id", "list-help",
        "list-unsubscribe", "list-unsubscribe-post", "list-subscribe", "list-post", "list-owner", "list-archive",
    ]

    /// The DKIM-Signature field to put on top of the message, folded, ending in CRLF.
    public static func signatureField(for message: [UInt8], key: DKIMSigningKey, at time: Int) throws -> String {
        let header = MessageHeader(parsing: message)
        var names: [String] = []
        for name in signedFieldNames {
            let count = header.fields(named: name).count
            names += Array(repeating: name, count: count + (name == "from" ? 1 : 0))
        }
        let body = DKIMCanonicalization.relaxed.body(message[min(header.bodyStart, message.count)...])
        let bodyHash = Base64Text.encode(Array(SHA256.hash(data: body)))
        var text = "DKIM-Signature: v=1; a=\(key.algorithm.rawValue); c=relaxed/relaxed;\r\n\td=\(key.domain); s=\(key.selector); t=\(time);\r\n\th="
        var lineLength = 3
        for (i, name) in names.enumerated() {
            let piece = name + (i < names.count - 1 ? ":" : ";")
            if lineLength + piece.count > 74 {
                text += "\r\n\t"
                lineLength = 0
            }
            text += piece
            lineLength += piece.count
        }
        text += "\r\n\tbh=\(bodyHash);\r\n\tb="
        let unsigned = RawHeaderField(name: "DKIM-Signature", raw: Array((text + "\r\n").utf8)[...])
        var data = DKIMHeaderHash.input(header: header, excluding: nil, signedHeaders: names, canonicalization: .relaxed)
        data += DKIMHeaderHash.signatureField(unsigned, canonicalization: .relaxed)
        let digest = SHA256.hash(data: data)
        let signature: [UInt8]
        switch key.material {
        case .rsa(let privateKey): signature = Array(try privateKey.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ed25519(let privateKey): signature = Array(try privateKey.signature(for: Array(digest)))
        }
        let encoded = Base64Text.encode(signature)
        var start = encoded.startIndex
        var first = true
        while start < encoded.endIndex {
            let end = encoded.index(start, offsetBy: first ? 70 : 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            if !first { text += "\r\n\t" }
            text += encoded[start..<end]
            start = end
            first = false
        }
        return text + "\r\n"
    }

    /// The message with its signature on top.
    public static func sign(_ message: [UInt8], key: DKIMSigningKey, at time: Int) throws -> [UInt8] {
        Array(try signatureField(for: message, key: key, at: time).utf8) + message
    }
}
