import Foundation
import MailAuth
import MailStore
import Synchronization

/// Parsed signing keys per domain, kept briefly: parsing a PEM key costs more than signing, and
/// a rotation from `tern domain dkim rotate` (another process) is seen within `lifetime`.
public final class DKIMKeyCache: Sendable {
    let store: any SigningKeyRepository
    let lifetime: TimeInterval
    private let entries = Mutex<[String: (keys: [DKIMSigningKey], until: Date)]>([:])

    public init(store: any SigningKeyRepository, lifetime: TimeInterval = 30) {
        self.store = store
        self.lifetime = lifetime
    }

    public func keys(for domain: String) -> [DKIMSigningKey] {
        let name = domain.lowercased()
        let now = Date()
        if let cached = entries.withLock({ $0[name] }), cached.until > now { return cached.keys }
        let stored = (try? store.activeSigningKeys(domain: name)) ?? []
        let keys = stored.compactMap { try? DKIMSigningKey(domain: $0.domain, selector: $0.selector, storageText: $0.privateKey) }
        entries.withLock { $0[name] = (keys, now.addingTimeInterval(lifetime)) }
        return keys
    }
}
