import Crypto
import CryptoExtras
import Foundation
import MailCore

/// Password storage with scrypt (RFC 7914), in a self-describing text form:
/// `$scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>`.
public enum PasswordHash {
    public static let defaultLogRounds = 15

    public static func make(_ password: String, logRounds: Int = defaultLogRounds) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        let key = try derive(password, salt: salt, logRounds: logRounds, blockSize: 8, parallelism: 1)
        return "$scrypt$ln=\(logRounds),r=8,p=1$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// Checks a password against a stored hash in constant time for a given hash.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count == 4, parts[0] == "scrypt" else { return false }
        var params: [String: Int] = [:]
        for item in parts[1].split(separator: ",") {
            let kv = item.split(separator: "=")
            guard kv.count == 2, let v = Int(kv[1]) else { return false }
            params[String(kv[0])] = v
        }
        guard let ln = params["ln"], let r = params["r"], let p = params["p"], (1...20).contains(ln),
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
            let actual = try? derive(password, salt: Array(salt), logRounds: ln, blockSize: r, parallelism: p, length: expected.count)
        else { return false }
        return ConstantTime.equal(actual, expected)
    }

    private static func derive(_ password: String, salt: [UInt8], logRounds: Int, blockSize: Int, parallelism: Int, length: Int = 32) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length, rounds: 1 << logRounds, blockSize: blockSize,
            parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}
