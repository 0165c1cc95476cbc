import Foundation

/// The dashboard's cookies (RFC 6265): the session token, and the login form's CSRF token
/// (double-submit: the form carries the value the cookie holds). Both `HttpOnly`,
/// `SameSite=Strict`, limited to `/dashboard`, and `Secure` on the https listener.
enum SessionCookie {
    static let session = "tern_session"
    static let login = "tern_login"

    /// The value of cookie `name` in a `Cookie:` header, if present.
    static func value(_ name: String, in header: String?) -> String? {
        guard let header, header.utf8.count <= 8192 else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            guard let equals = pair.firstIndex(of: "=") else { continue }
            if pair[..<equals] == name { return String(pair[pair.index(after: equals)...]) }
        }
        return nil
    }

    static func set(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=/dashboard; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(secure ? "; Secure" : "")"
    }

    static func clear(_ name: String, secure: Bool) -> String { set(name, "", maxAge: 0, secure: secure) }
}
