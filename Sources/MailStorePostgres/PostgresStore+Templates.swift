import MailStore
import PostgresNIO

extension PostgresStore: TemplateRepository {
    public func addTemplate(_ template: MailTemplate) async throws(StoreError) {
        try await rows(
            """
            INSERT INTO templates(id, account, name, generation, updated_at)
            VALUES (\(template.id), \(template.account), \(template.name), \(template.generation), \(Int64(template.updatedAt)))
            """)
    }

    public func templates(account: String) async throws(StoreError) -> [MailTemplate] {
        try await withVersions(rows("SELECT id, account, name, generation, updated_at FROM templates WHERE account = \(account) ORDER BY updated_at DESC, id"))
    }

    public func template(id: String, account: String) async throws(StoreError) -> MailTemplate? {
        try await withVersions(rows("SELECT id, account, name, generation, updated_at FROM templates WHERE id = \(id) AND account = \(account)")).first
    }

    public func renameTemplate(id: String, account: String, name: String, at: Int) async throws(StoreError) -> Bool {
        try await !rows(
            "UPDATE templates SET name = \(name), updated_at = \(Int64(at)) WHERE id = \(id) AND account = \(account) RETURNING 1"
        ).isEmpty
    }

    public func removeTemplate(id: String, account: String) async throws(StoreError) -> Bool {
        // Versions go with the template (ON DELETE CASCADE).
        try await !rows("DELETE FROM templates WHERE id = \(id) AND account = \(account) RETURNING 1").isEmpty
    }

    public func saveVersion(_ version: TemplateVersion, account: String) async throws(StoreError) -> Bool {
        try await transaction { connection in
            // The template row is locked, so two nodes saving versions at once keep one active.
            let owned = try await connection.query(
                "SELECT 1 FROM templates WHERE id = \(version.templateID) AND account = \(account) FOR UPDATE", logger: self.logger
            ).collect()
            guard owned.count == 1 else { return false }
            if version.active {
                try await connection.query(
                    "UPDATE template_versions SET active = false WHERE template_id = \(version.templateID) AND id <> \(version.id)", logger: self.logger)
            }
            try await connection.query(
                """
                INSERT INTO template_versions(id, template_id, name, subject, html_content, plain_content, active, updated_at)
                VALUES (\(version.id), \(version.templateID), \(version.name), \(version.subject), \(version.htmlContent), \(version.plainContent),
                        \(version.active), \(Int64(version.updatedAt)))
                ON CONFLICT (id) DO UPDATE SET template_id = EXCLUDED.template_id, name = EXCLUDED.name, subject = EXCLUDED.subject,
                    html_content = EXCLUDED.html_content, plain_content = EXCLUDED.plain_content, active = EXCLUDED.active,
                    updated_at = EXCLUDED.updated_at
                """, logger: self.logger)
            try await connection.query(
                "UPDATE templates SET updated_at = \(Int64(version.updatedAt)) WHERE id = \(version.templateID)", logger: self.logger)
            return true
        }
    }

    public func removeVersion(id: String, templateID: String, account: String) async throws(StoreError) -> Bool {
        try await !rows(
            """
            DELETE FROM template_versions WHERE id = \(id) AND template_id = \(templateID)
              AND template_id IN (SELECT id FROM templates WHERE account = \(account)) RETURNING 1
            """
        ).isEmpty
    }

    /// Templates from their rows, each with its versions (one more query for all of them).
    func withVersions(_ templateRows: [PostgresRow]) async throws(StoreError) -> [MailTemplate] {
        var templates: [MailTemplate] = []
        do {
            for row in templateRows {
                let (id, account, name, generation, updatedAt) = try row.decode((String, String, String, String, Int64).self)
                templates.append(MailTemplate(id: id, account: account, name: name, generation: generation, updatedAt: Int(updatedAt)))
            }
        } catch {
            throw Self.storeError(error)
        }
        guard !templates.isEmpty else { return [] }
        let ids = templates.map(\.id)
        let versionRows = try await rows(
            """
            SELECT id, template_id, name, subject, html_content, plain_content, active, updated_at FROM template_versions
            WHERE template_id = ANY(\(ids)) ORDER BY updated_at, id
            """)
        var versions: [String: [TemplateVersion]] = [:]
        do {
            for row in versionRows {
                let (id, templateID, name, subject, html, plain, active, updatedAt) = try row.decode(
                    (String, String, String, String, String, String, Bool, Int64).self)
                versions[templateID, default: []].append(
                    TemplateVersion(
                        id: id, templateID: templateID, name: name, subject: subject, htmlContent: html, plainContent: plain, active: active,
                        updatedAt: Int(updatedAt)))
            }
        } catch {
            throw Self.storeError(error)
        }
        return templates.map { template in
            var template = template
            template.versions = versions[template.id] ?? []
            return template
        }
    }
}
