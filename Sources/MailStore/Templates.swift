/// A transactional template of an account (SendGrid's `/v3/templates`): `d-` and 32 hex digits,
/// with its versions; at most one version is active, and a send with `template_id` uses it.
public struct MailTemplate: Hashable, Sendable {
    public var id: String
    public var account: String
    public var name: String
    /// `dynamic` (Handlebars) or `legacy`.
    public var generation: String
    public var updatedAt: Int
    public var versions: [TemplateVersion]

    public init(id: String, account: String, name: String, generation: String, updatedAt: Int, versions: [TemplateVersion] = []) {
        self.id = id
        self.account = account
        self.name = name
        self.generation = generation
        self.updatedAt = updatedAt
        self.versions = versions
    }

    /// The version sends use.
    public var activeVersion: TemplateVersion? { versions.first { $0.active } }
}

/// One version of a template: its subject and contents, as Handlebars text.
public struct TemplateVersion: Hashable, Sendable {
    public var id: String
    public var templateID: String
    public var name: String
    public var subject: String
    public var htmlContent: String
    public var plainContent: String
    public var active: Bool
    public var updatedAt: Int

    public init(
        id: String, templateID: String, name: String, subject: String, htmlContent: String, plainContent: String, active: Bool, updatedAt: Int
    ) {
        self.id = id
        self.templateID = templateID
        self.name = name
        self.subject = subject
        self.htmlContent = htmlContent
        self.plainContent = plainContent
        self.active = active
        self.updatedAt = updatedAt
    }
}

/// Templates and versions, per account (another account's template is "not found").
public protocol TemplateRepository: Sendable {
    /// Adds a template; `.limitReached`-like refusals are the caller's (it counts first).
    func addTemplate(_ template: MailTemplate) async throws(StoreError)
    func templates(account: String) async throws(StoreError) -> [MailTemplate]
    func template(id: String, account: String) async throws(StoreError) -> MailTemplate?
    func renameTemplate(id: String, account: String, name: String, at: Int) async throws(StoreError) -> Bool
    func removeTemplate(id: String, account: String) async throws(StoreError) -> Bool
    /// Adds or replaces a version (by id) of one of the account's templates; an active one
    /// makes every other version of the template inactive. False when the template is not the
    /// account's.
    func saveVersion(_ version: TemplateVersion, account: String) async throws(StoreError) -> Bool
    func removeVersion(id: String, templateID: String, account: String) async throws(StoreError) -> Bool
}
