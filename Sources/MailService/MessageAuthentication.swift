import Foundation
import MailAuth
import MailCore
import MailStore
import Synchronization

/// Sender authentication on the accept path: DKIM signing of what hosted domains send, and SPF,
/// DKIM and DMARC checks of what arrives from elsewhere (DESIGN.md "The accept path").
public struct MessageAuthentication: Sendable {
    public var spf: SPFVerifier
    public var dkim: DKIMVerifier
    public var dmarc: DMARCVerifier
    /// The authserv-id of the Authentication-Results fields Tern writes (its hostname).
    public var authservID: String
    /// DMARC `p=reject` (after pct) → `550 5.7.1`; false files the message as Junk instead.
    public var rejectOnDMARC: Bool
    /// Hosted domains whose recipients never get a DMARC rejection, only quarantine.
    public var relaxedDomains: Set<String>
    /// Keys that sign mail from hosted domains; nil signs nothing.
    public var signingKeys: DKIMKeyCache?
    /// Whether mail from outside is checked at all.
    public var checkInbound = true
    /// SPF started at MAIL FROM, taken when the message is complete.
    let early = EarlySPF()

    public init(
        spf: SPFVerifier, dkim: DKIMVerifier, dmarc: DMARCVerifier, authservID: String, rejectOnDMARC: Bool = true,
        relaxedDomains: Set<String> = [], signingKeys: DKIMKeyCache?
    ) {
        self.spf = spf
        self.dkim = dkim
        self.dmarc = dmarc
        self.authservID = authservID
        self.rejectOnDMARC = rejectOnDMARC
        self.relaxedDomains = relaxedDomains
        self.signingKeys = signingKeys
    }

    /// What the inbound checks decided.
    public struct Verdict: Sendable {
        /// The message to store: forged Authentication-Results removed, ours on top.
        public var content: [UInt8]
        /// DMARC `p=reject`: the message is refused.
        public var refusal: IntakeRefusal?
        public var quarantine: String?
        public var spf: SPFOutcome
        public var heloSPF: SPFOutcome?
        public var dkim: [DKIMResult]
        public var dmarc: DMARCOutcome
    }

    /// Starts the SPF checks at MAIL FROM (RFC 7208 §2.4), so their lookups run while the
    /// client sends the message; `check` takes the result.
    /// One connection has at most one transaction, so a check of an earlier MAIL on the same
    /// connection still waiting belongs to a transaction that was reset: it is cancelled.
    public func senderGiven(mailFrom: String, clientAddress: String, helo: String, connection: UInt64 = 0) {
        let spf = self.spf
        early.start(key: EarlySPF.key(clientAddress, mailFrom, helo), client: EarlySPF.client(clientAddress, connection: connection)) {
            await Self.spfChecks(spf, mailFrom: mailFrom, clientAddress: clientAddress, helo: helo)
        }
    }

    /// Cancels the SPF checks begun for `connection` that no transaction took.
    public func connectionClosed(clientAddress: String, connection: UInt64) {
        early.cancel(client: EarlySPF.client(clientAddress, connection: connection))
    }

    /// SPF checks begun and not yet taken (for tests).
    public var earlyChecksInFlight: Int { early.count }

    /// SPF of the MAIL FROM identity (the HELO name's postmaster for `<>`) and, when the HELO
    /// name is a domain, of the HELO identity too (RFC 7208 §2.3); an address literal or a bare
    /// word has no policy to look up.
    static func spfChecks(_ spf: SPFVerifier, mailFrom: String, clientAddress: String, helo: String) async -> SPFPair {
        async let mailFromOutcome = spf.checkMailFrom(ip: clientAddress, mailFrom: mailFrom, helo: helo)
        let heloIsName = helo.contains(".") && !helo.hasPrefix("[") && !mailFrom.isEmpty
        async let heloOutcome: SPFOutcome? = heloIsName ? spf.checkHELO(ip: clientAddress, helo: helo) : nil
        return SPFPair(mailFrom: await mailFromOutcome, helo: await heloOutcome)
    }

    struct SPFPair: Sendable {
        var mailFrom: SPFOutcome
        var helo: SPFOutcome?
    }

    /// SPF (started at MAIL FROM when `senderGiven` was called), every DKIM signature, then DMARC.
    public func check(content original: [UInt8], envelope: Envelope, clientAddress: String, helo: String) async -> Verdict {
        let (content, _) = AuthenticationResults.removingForged(original, authservID: authservID)
        let mailFrom = envelope.reversePath.mailbox?.description ?? ""
        let spf = self.spf
        let started = early.take(key: EarlySPF.key(clientAddress, mailFrom, helo))
            ?? Task { await Self.spfChecks(spf, mailFrom: mailFrom, clientAddress: clientAddress, helo: helo) }
        async let dkimResults = dkim.verify(content)
        let pair = await started.value
        let spfResult = pair.mailFrom
        let dkimList = await dkimResults
        let heloResult = pair.helo
        let dmarcOutcome = await dmarc.evaluate(message: content, spf: spfResult, dkim: dkimList)
        let field = AuthenticationResults.field(
            authservID: authservID, spf: spfResult, mailFrom: mailFrom, helo: helo, dkim: dkimList, dmarc: dmarcOutcome, heloSPF: heloResult)
        var verdict = Verdict(
            content: Array(field.utf8) + content, refusal: nil, quarantine: nil, spf: spfResult, heloSPF: heloResult, dkim: dkimList,
            dmarc: dmarcOutcome)
        switch dmarcOutcome.disposition {
        case .none:
            break
        case .quarantine:
            verdict.quarantine = "dmarc"
        case .reject:
            let recipientDomains = Set(envelope.recipients.compactMap { $0.path.mailbox?.domain.normalized })
            if rejectOnDMARC && !recipientDomains.isSubset(of: relaxedDomains) {
                // RFC 7489 §6.7 / §10.3: reject after DATA, saying why.
                verdict.refusal = .dmarcReject(fromDomain: dmarcOutcome.fromDomain, reason: dmarcOutcome.reason)
            } else {
                verdict.quarantine = "dmarc"
            }
        }
        return verdict
    }

    /// A DKIM-Signature field per active key of the message's From domain, to go on top; ""
    /// when that domain has none (the common case costs one header scan, no copy).
    public func signatureFields(for content: UnsafeRawBufferPointer, at time: Int) -> String {
        guard let cache = signingKeys, let from = HeaderFields.firstValue(named: "From", in: content),
            let spec = AddressList.addrSpecs(in: from).first, let at = spec.lastIndex(of: "@")
        else { return "" }
        let keys = cache.keys(for: String(spec[spec.index(after: at)...]))
        guard !keys.isEmpty else { return "" }
        let message = Array(content)
        var fields = ""
        for key in keys {
            if let field = try? DKIMSigner.signatureField(for: message, key: key, at: time) { fields += field }
        }
        return fields
    }
}
