import Foundation
import GRDB
import MailCore
import MailStore

/// The schema: every migration, in order. A migration once released never changes; a new
/// version adds one.
extension SQLiteStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE domains(
                        name TEXT PRIMARY KEY COLLATE NOCASE,
                        created_at INTEGER NOT NULL);
                    CREATE TABLE users(
                        address TEXT PRIMARY KEY COLLATE NOCASE,
                        domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
                        password_hash TEXT NOT NULL,
                        plan TEXT NOT NULL,
                        created_at INTEGER NOT NULL);
                    CREATE TABLE messages(
                        id TEXT PRIMARY KEY,
                        message_id TEXT,
                        reverse_path TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        client_address TEXT,
                        helo TEXT,
                        dsn_ret TEXT,
                        envid TEXT,
                        body_type TEXT,
                        smtputf8 INTEGER NOT NULL DEFAULT 0,
                        content BLOB NOT NULL);
                    CREATE TABLE recipients(
                        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        address TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_reply TEXT,
                        notify TEXT,
                        orcpt TEXT,
                        next_attempt_at INTEGER,
                        PRIMARY KEY(message_id, position));
                    CREATE INDEX recipients_due ON recipients(state, next_attempt_at);
                    """)
        }
        migrator.registerMigration("v2-scram") { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN scram TEXT")
        }
        migrator.registerMigration("v3-api-keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_keys(
                        id TEXT PRIMARY KEY,
                        user TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        secret_hash TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER);
                    CREATE INDEX api_keys_user ON api_keys(user);
                    """)
        }
        migrator.registerMigration("v4-sending-domains") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sending_domains(
                        user TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
                        domain TEXT NOT NULL COLLATE NOCASE,
                        PRIMARY KEY(user, domain)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v5-usage") { db in
            try db.execute(
                sql: """
                    CREATE TABLE usage(
                        user TEXT NOT NULL,
                        period TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY(user, period)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v6-auth-identity") { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN cram_secret TEXT")
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN auth_account TEXT")
        }
        migrator.registerMigration("v7-delivery") { db in
            try db.execute(
                sql: """
                    ALTER TABLE recipients ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE events(
                        id INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        message_id TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        type TEXT NOT NULL,
                        mx_host TEXT,
                        tls TEXT,
                        reply TEXT);
                    CREATE INDEX events_message ON events(message_id);
                    """)
        }
        migrator.registerMigration("v8-mail-auth") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN quarantine TEXT;
                    CREATE TABLE signing_keys(
                        domain TEXT NOT NULL COLLATE NOCASE REFERENCES domains(name) ON DELETE CASCADE,
                        selector TEXT NOT NULL,
                        algorithm TEXT NOT NULL,
                        private_key TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        PRIMARY KEY(domain, selector)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v9-mailboxes") { db in
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN quota_bytes INTEGER;
                    CREATE TABLE mailboxes(
                        id INTEGER PRIMARY KEY,
                        user TEXT NOT NULL COLLATE NOCASE REFERENCES users(address) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        uidvalidity INTEGER NOT NULL,
                        uidnext INTEGER NOT NULL DEFAULT 1,
                        highest_modseq INTEGER NOT NULL DEFAULT 1,
                        UNIQUE(user, name));
                    CREATE TABLE mailbox_messages(
                        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
                        uid INTEGER NOT NULL,
                        message_id TEXT NOT NULL REFERENCES messages(id),
                        prefix BLOB NOT NULL,
                        size INTEGER NOT NULL,
                        internal_date INTEGER NOT NULL,
                        flags TEXT NOT NULL DEFAULT '',
                        modseq INTEGER NOT NULL,
                        delivery TEXT,
                        PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
                    CREATE UNIQUE INDEX mailbox_messages_delivery ON mailbox_messages(delivery);
                    CREATE INDEX mailbox_messages_message ON mailbox_messages(message_id);
                    CREATE TABLE aliases(
                        address TEXT NOT NULL COLLATE NOCASE,
                        target TEXT NOT NULL,
                        PRIMARY KEY(address, target)) WITHOUT ROWID;
                    CREATE TABLE catch_alls(
                        domain TEXT PRIMARY KEY COLLATE NOCASE REFERENCES domains(name) ON DELETE CASCADE,
                        target TEXT NOT NULL);
                    """)
            // Users made before mailboxes get their folders now.
            for user in try String.fetchAll(db, sql: "SELECT address FROM users") {
                try Self.createFolders(db, user: user, subscribe: false)
            }
        }
        migrator.registerMigration("v10-mailbox-usage") { db in
            // A running total, so a quota check is one indexed read, not a sum over the mailbox.
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
                    UPDATE users SET used_bytes = (
                        SELECT COALESCE(SUM(mm.size), 0) FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id
                        WHERE m.user = users.address);
                    """)
        }
        migrator.registerMigration("v11-content-lifecycle") { db in
            // Content nobody needs any more (every recipient finished, no mailbox holds it) is
            // overwritten and marked, while the envelope and its history stay for `queue show`.
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN content_deleted_at INTEGER")
        }
        migrator.registerMigration("v12-http-api") { db in
            // Keys made before scopes existed keep doing everything they could.
            try db.execute(
                sql: """
                    ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'full';
                    ALTER TABLE messages ADD COLUMN request_id TEXT;
                    ALTER TABLE messages ADD COLUMN request_first_recipient INTEGER;
                    CREATE INDEX messages_request ON messages(request_id) WHERE request_id IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v13-events") { db in
            // Events name their recipient's position (for sg_message_id) and attempt; messages
            // keep their subject and the sender's tags for the activity API and webhooks.
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN position INTEGER;
                    ALTER TABLE events ADD COLUMN attempt INTEGER;
                    ALTER TABLE messages ADD COLUMN subject TEXT;
                    ALTER TABLE messages ADD COLUMN categories TEXT;
                    ALTER TABLE messages ADD COLUMN custom_args TEXT;
                    ALTER TABLE messages ADD COLUMN asm_group INTEGER;
                    CREATE INDEX messages_account ON messages(auth_account, created_at) WHERE auth_account IS NOT NULL;
                    CREATE INDEX events_at ON events(at);
                    """)
        }
        migrator.registerMigration("v14-webhooks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhooks(
                        id TEXT PRIMARY KEY,
                        account TEXT NOT NULL,
                        url TEXT NOT NULL,
                        enabled INTEGER NOT NULL,
                        friendly_name TEXT,
                        events TEXT NOT NULL,
                        signing_key TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        cursor INTEGER NOT NULL,
                        failures INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX webhooks_account ON webhooks(account);
                    """)
        }
        migrator.registerMigration("v15-suppressions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE suppressions(
                        account TEXT NOT NULL,
                        list TEXT NOT NULL,
                        group_id INTEGER NOT NULL DEFAULT 0,
                        email TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        reason TEXT,
                        status TEXT,
                        PRIMARY KEY(account, email, list, group_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX suppressions_list ON suppressions(account, list, group_id, created_at);
                    CREATE TABLE suppression_groups(
                        id INTEGER PRIMARY KEY,
                        account TEXT NOT NULL,
                        name TEXT NOT NULL,
                        description TEXT NOT NULL,
                        is_default INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE INDEX suppression_groups_account ON suppression_groups(account);
                    """)
        }
        migrator.registerMigration("v16-sandbox") { db in
            try db.execute(
                sql: """
                    ALTER TABLE api_keys ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE users ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE messages ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX messages_sandbox ON messages(auth_account, created_at) WHERE sandbox;
                    """)
        }
        migrator.registerMigration("v17-send-options") { db in
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN send_options TEXT")
        }
        migrator.registerMigration("v18-imap") { db in
            // Subscriptions name folders, not rows: RFC 9051 §6.3.7 lets one outlive its folder.
            // Expunged UIDs are kept with the MODSEQ of their expunge for QRESYNC's VANISHED.
            try db.execute(
                sql: """
                    CREATE TABLE mailbox_subscriptions(
                        user TEXT NOT NULL COLLATE NOCASE,
                        name TEXT NOT NULL,
                        PRIMARY KEY(user, name)) WITHOUT ROWID;
                    INSERT INTO mailbox_subscriptions(user, name) SELECT user, name FROM mailboxes;
                    CREATE TABLE mailbox_expunged(
                        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
                        uid INTEGER NOT NULL,
                        modseq INTEGER NOT NULL,
                        PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;
                    ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX mailbox_messages_modseq ON mailbox_messages(mailbox_id, modseq);
                    """)
        }
        migrator.registerMigration("v19-engagement") { db in
            // Opens and clicks carry what SendGrid's events say about them (user agent, IP, URL,
            // link offset, machine open) as a JSON object. Abuse reports name the original by
            // its Message-ID field. Secrets shared by every node (the
            // tracking-token key) live in the database, not in one node's files.
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN details TEXT;
                    CREATE INDEX events_type_at ON events(type, at) WHERE type IN ('open', 'click');
                    CREATE INDEX messages_message_id ON messages(message_id) WHERE auth_account IS NOT NULL;
                    CREATE TABLE server_secrets(
                        name TEXT PRIMARY KEY,
                        value BLOB NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v20-templates") { db in
            // Templates and their versions; an account's own tracking defaults (JSON).
            try db.execute(
                sql: """
                    CREATE TABLE templates(
                        id TEXT PRIMARY KEY,
                        account TEXT NOT NULL COLLATE NOCASE REFERENCES users(address) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        generation TEXT NOT NULL,
                        updated_at INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE INDEX templates_account ON templates(account);
                    CREATE TABLE template_versions(
                        id TEXT PRIMARY KEY,
                        template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        html_content TEXT NOT NULL,
                        plain_content TEXT NOT NULL,
                        active INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE INDEX template_versions_template ON template_versions(template_id);
                    ALTER TABLE users ADD COLUMN tracking_settings TEXT;
                    """)
        }
        migrator.registerMigration("v21-operators") { db in
            // Operators see the whole server in the dashboard; everyone else, their own account.
            try db.execute(sql: "ALTER TABLE users ADD COLUMN is_operator INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v22-web-sessions") { db in
            // Dashboard sessions: the token's SHA-256 only; gone with their user.
            try db.execute(
                sql: """
                    CREATE TABLE web_sessions(
                        token_hash BLOB PRIMARY KEY,
                        user TEXT NOT NULL COLLATE NOCASE REFERENCES users(address) ON DELETE CASCADE,
                        csrf TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
                    """)
        }
        migrator.registerMigration("v23-webhook-attempts") { db in
            // Each webhook's recent posts for the dashboard, newest kept; gone with the webhook.
            try db.execute(
                sql: """
                    CREATE TABLE webhook_attempts(
                        id INTEGER PRIMARY KEY,
                        webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
                        at INTEGER NOT NULL,
                        outcome TEXT NOT NULL,
                        events INTEGER NOT NULL,
                        status INTEGER,
                        error TEXT,
                        retry INTEGER NOT NULL,
                        milliseconds INTEGER NOT NULL);
                    CREATE INDEX webhook_attempts_webhook ON webhook_attempts(webhook_id, id);
                    """)
        }
        migrator.registerMigration("v24-key-last-used") { db in
            // When each API key last authenticated, for the dashboard's keys page.
            try db.execute(sql: "ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER")
        }
        return migrator
    }
}
