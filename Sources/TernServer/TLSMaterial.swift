import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The server's certificate and key: the configured pair, or a self-signed pair made on first
/// start in `data_dir/tls/` so STARTTLS and implicit TLS work out of the box.
public enum TLSMaterial {
    public static func serverContext(configuration: TernConfiguration) throws(ConfigurationError) -> NIOSSLContext {
        let tls = try serverConfiguration(configuration: configuration)
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw ConfigurationError(key: "tls.certificate", "cannot use the certificate and key: \(error)")
        }
    }

    /// The server TLS configuration every listener uses (SMTP, POP3, HTTPS).
    public static func serverConfiguration(configuration: TernConfiguration) throws(ConfigurationError) -> TLSConfiguration {
        var certificatePath = configuration.tls.certificate
        var keyPath = configuration.tls.privateKey
        if certificatePath.isEmpty {
            let directory = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("tls")
            certificatePath = directory.appendingPathComponent("certificate.pem").path
            keyPath = directory.appendingPathComponent("private_key.pem").path
            if !FileManager.default.fileExists(atPath: certificatePath) || !FileManager.default.fileExists(atPath: keyPath) {
                do {
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    let (certificate, key) = try makeSelfSigned(hostname: configuration.hostname)
                    // The key is written first with owner-only permissions.
                    guard FileManager.default.createFile(atPath: keyPath, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600])
                    else { throw ConfigurationError(key: "tls", "cannot write \(keyPath)") }
                    try Data(certificate.utf8).write(to: URL(fileURLWithPath: certificatePath))
                } catch {
                    throw ConfigurationError(key: "tls", "cannot create a self-signed certificate in \(directory.path): \(error)")
                }
            }
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            return tls
        } catch {
            throw ConfigurationError(key: "tls.certificate", "cannot load \(certificatePath) / \(keyPath): \(error)")
        }
    }

    /// A P-256 certificate for `hostname`, valid ten years, as PEM texts (certificate, key).
    public static func makeSelfSigned(hostname: String) throws -> (String, String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(hostname) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([.dnsName(hostname)])
            },
            issuerPrivateKey: .init(key))
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }
}
