import Foundation
import GRDB
import MailStore

extension SQLiteStore: TemplateRepository {
    public func addTemplate(_ template: MailTemplate) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO templates(id, account, name, generation, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [template.id, template.account, template.name, template.generation, template.updatedAt])
        }
    }

    public func templates(account: String) async throws(StoreError) -> [MailTemplate] {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM templates WHERE account = ? ORDER BY updated_at DESC, id", arguments: [account])
            return try rows.map { try Self.template(from: $0, db) }
        }
    }

    public func template(id: String, account: String) async throws(StoreError) -> MailTemplate? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM templates WHERE id = ? AND account = ?", arguments: [id, account]).map { try Self.template(from: $0, db) }
        }
    }

    public func renameTemplate(id: String, account: String, name: String, at: Int) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE templates SET name = ?, updated_at = ? WHERE id = ? AND account = ?", arguments: [name, at, id, account])
            return db.changesCount > 0
        }
    }

    public func removeTemplate(id: String, account: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM template_versions WHERE template_id IN (SELECT id FROM templates WHERE id = ? AND account = ?)", arguments: [id, account])
            try db.execute(sql: "DELETE FROM templates WHERE id = ? AND account = ?", arguments: [id, account])
            return db.changesCount > 0
        }
    }

    public func saveVersion(_ version: TemplateVersion, account: String) async throws(StoreError) -> Bool {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM templates WHERE id = ? AND account = ?", arguments: [version.templateID, account]) == true else {
                return false
            }
            if version.active {
                try db.execute(sql: "UPDATE template_versions SET active = 0 WHERE template_id = ? AND id != ?", arguments: [version.templateID, version.id])
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO template_versions(id, template_id, name, subject, html_content, plain_content, active, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    version.id, version.templateID, version.name, version.subject, version.htmlContent, version.plainContent, version.active,
                    version.updatedAt,
                ])
            try db.execute(sql: "UPDATE templates SET updated_at = ? WHERE id = ?", arguments: [version.updatedAt, version.templateID])
            return true
        }
    }

    public func removeVersion(id: String, templateID: String, account: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    DELETE FROM template_versions WHERE id = ? AND template_id = ?
                      AND template_id IN (SELECT id FROM templates WHERE account = ?)
                    """, arguments: [id, templateID, account])
            return db.changesCount > 0
        }
    }

    static func template(from row: Row, _ db: Database) throws -> MailTemplate {
        let id: String = row["id"]
        let versions = try Row.fetchAll(db, sql: "SELECT * FROM template_versions WHERE template_id = ? ORDER BY updated_at, id", arguments: [id]).map {
            TemplateVersion(
                id: $0["id"], templateID: id, name: $0["name"], subject: $0["subject"], htmlContent: $0["html_content"],
                plainContent: $0["plain_content"], active: $0["active"], updatedAt: $0["updated_at"])
        }
        return MailTemplate(
            id: id, account: row["account"], name: row["name"], generation: row["generation"], updatedAt: row["updated_at"], versions: versions)
    }
}
