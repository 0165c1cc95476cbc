/// The PostgreSQL schema, as numbered migrations applied in order by `PostgresStore.migrate`.
/// It holds what the SQLite schema holds (MailStoreSQLite/SQLiteStore+Schema.swift, the same
/// tables and meanings) with what many nodes need besides:
/// - addresses compare without regard to case through the `tern_nocase` collation (ICU,
///   non-deterministic), as SQLite's `COLLATE NOCASE` does;
/// - a column named `user` in SQLite is `account` here (`user` is reserved in PostgreSQL);
/// - recipients carry a lease (`leased_by`, `lease_until`) so nodes share the queue with
///   `FOR UPDATE SKIP LOCKED` and take over a dead node's work when its lease runs out;
/// - events carry the id of the transaction that wrote them (`txid`), so a webhook cursor only
///   moves over events whose transactions are all finished (ids are not in commit order when
///   several nodes write at once);
/// - `maildrop_locks` holds POP3's exclusive maildrop lock across nodes, with an expiry.
/// Times are Unix seconds in BIGINT, as in SQLite; booleans are BOOLEAN.
enum PostgresSchema {
    static let migrations: [(name: String, sql: String)] = [
        ("v1-schema", v1),
        ("v2-directory-notify", v2),
    ]

    /// Every node keeps the directory in memory (`DirectorySnapshot`): a change by any node
    /// notifies them all, and counts `directory_version` up in its own transaction, so a node
    /// never replaces a newer snapshot with an older one read at the same time. Counters that move with each message (`used_bytes`, `last_used_at`)
    /// do not notify; they are reloaded on a timer.
    static let v2 = """
        CREATE TABLE directory_version(version BIGINT NOT NULL);
        INSERT INTO directory_version VALUES (0);
        CREATE FUNCTION tern_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE directory_version SET version = version + 1; PERFORM pg_notify('tern_directory', TG_TABLE_NAME); RETURN NULL; END $$;
        CREATE TRIGGER domains_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domains FOR EACH STATEMENT EXECUTE FUNCTION tern_directory_changed();
        CREATE TRIGGER users_changed AFTER INSERT OR DELETE OR UPDATE OF address, domain, password_hash, scram, cram_secret, plan, quota_bytes, sandbox, tracking_settings ON users FOR EACH STATEMENT EXECUTE FUNCTION tern_directory_changed();
        CREATE TRIGGER aliases_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aliases FOR EACH STATEMENT EXECUTE FUNCTION tern_directory_changed();
        CREATE TRIGGER catch_alls_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catch_alls FOR EACH STATEMENT EXECUTE FUNCTION tern_directory_changed();
        CREATE TRIGGER sending_domains_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sending_domains FOR EACH STATEMENT EXECUTE FUNCTION tern_directory_changed();
        CREATE TRIGGER api_keys_changed AFTER INSERT OR DELETE OR UPDATE OF name, revoked_at, scopes, sandbox ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION tern_directory_changed();
        CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys FOR EACH STATEMENT EXECUTE FUNCTION tern_directory_changed();
        """

    static let v1 = """
        CREATE COLLATION IF NOT EXISTS tern_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

        CREATE TABLE domains(
            name TEXT COLLATE tern_nocase PRIMARY KEY,
            created_at BIGINT NOT NULL);
        CREATE TABLE users(
            address TEXT COLLATE tern_nocase PRIMARY KEY,
            domain TEXT COLLATE tern_nocase NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
            password_hash TEXT NOT NULL,
            plan TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            scram TEXT,
            cram_secret TEXT,
            quota_bytes BIGINT,
            used_bytes BIGINT NOT NULL DEFAULT 0,
            sandbox BOOLEAN NOT NULL DEFAULT false,
            tracking_settings TEXT,
            is_operator BOOLEAN NOT NULL DEFAULT false);
        CREATE TABLE messages(
            id TEXT PRIMARY KEY,
            message_id TEXT,
            reverse_path TEXT NOT NULL,
            size BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            client_address TEXT,
            helo TEXT,
            dsn_ret TEXT,
            envid TEXT,
            body_type TEXT,
            smtputf8 BOOLEAN NOT NULL DEFAULT false,
            content BYTEA NOT NULL,
            auth_account TEXT COLLATE tern_nocase,
            quarantine TEXT,
            content_deleted_at BIGINT,
            request_id TEXT,
            request_first_recipient INTEGER,
            subject TEXT,
            categories TEXT,
            custom_args TEXT,
            asm_group BIGINT,
            sandbox BOOLEAN NOT NULL DEFAULT false,
            send_options TEXT);
        CREATE INDEX messages_request ON messages(request_id) WHERE request_id IS NOT NULL;
        CREATE INDEX messages_account ON messages(auth_account, created_at) WHERE auth_account IS NOT NULL;
        CREATE INDEX messages_sandbox ON messages(auth_account, created_at) WHERE sandbox;
        CREATE INDEX messages_message_id ON messages(message_id) WHERE auth_account IS NOT NULL;
        CREATE TABLE recipients(
            message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            address TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_reply TEXT,
            notify TEXT,
            orcpt TEXT,
            next_attempt_at BIGINT,
            delay_notified BOOLEAN NOT NULL DEFAULT false,
            leased_by TEXT,
            lease_until BIGINT,
            PRIMARY KEY(message_id, position));
        CREATE INDEX recipients_due ON recipients(state, next_attempt_at);
        CREATE TABLE api_keys(
            id TEXT PRIMARY KEY,
            account TEXT COLLATE tern_nocase NOT NULL REFERENCES users(address) ON DELETE CASCADE,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT,
            scopes TEXT NOT NULL DEFAULT 'full',
            sandbox BOOLEAN NOT NULL DEFAULT false,
            last_used_at BIGINT);
        CREATE INDEX api_keys_account ON api_keys(account);
        CREATE TABLE sending_domains(
            account TEXT COLLATE tern_nocase NOT NULL REFERENCES users(address) ON DELETE CASCADE,
            domain TEXT COLLATE tern_nocase NOT NULL,
            PRIMARY KEY(account, domain));
        CREATE TABLE usage(
            account TEXT COLLATE tern_nocase NOT NULL,
            period TEXT NOT NULL,
            count BIGINT NOT NULL,
            PRIMARY KEY(account, period));
        CREATE TABLE events(
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            at BIGINT NOT NULL,
            message_id TEXT NOT NULL,
            recipient TEXT NOT NULL,
            type TEXT NOT NULL,
            mx_host TEXT,
            tls TEXT,
            reply TEXT,
            position INTEGER,
            attempt INTEGER,
            details TEXT);
        CREATE INDEX events_message ON events(message_id);
        CREATE INDEX events_at ON events(at);
        CREATE INDEX events_type_at ON events(type, at) WHERE type IN ('open', 'click');
        CREATE TABLE signing_keys(
            domain TEXT COLLATE tern_nocase NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
            selector TEXT NOT NULL,
            algorithm TEXT NOT NULL,
            private_key TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY(domain, selector));
        CREATE TABLE mailboxes(
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account TEXT COLLATE tern_nocase NOT NULL REFERENCES users(address) ON DELETE CASCADE,
            name TEXT NOT NULL,
            uidvalidity BIGINT NOT NULL,
            uidnext BIGINT NOT NULL DEFAULT 1,
            highest_modseq BIGINT NOT NULL DEFAULT 1,
            recent_uid BIGINT NOT NULL DEFAULT 0,
            UNIQUE(account, name));
        CREATE TABLE mailbox_messages(
            mailbox_id BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
            uid BIGINT NOT NULL,
            message_id TEXT NOT NULL REFERENCES messages(id),
            prefix BYTEA NOT NULL,
            size BIGINT NOT NULL,
            internal_date BIGINT NOT NULL,
            flags TEXT NOT NULL DEFAULT '',
            modseq BIGINT NOT NULL,
            delivery TEXT UNIQUE,
            PRIMARY KEY(mailbox_id, uid));
        CREATE INDEX mailbox_messages_message ON mailbox_messages(message_id);
        CREATE INDEX mailbox_messages_modseq ON mailbox_messages(mailbox_id, modseq);
        CREATE TABLE mailbox_subscriptions(
            account TEXT COLLATE tern_nocase NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY(account, name));
        CREATE TABLE mailbox_expunged(
            mailbox_id BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
            uid BIGINT NOT NULL,
            modseq BIGINT NOT NULL,
            PRIMARY KEY(mailbox_id, uid));
        CREATE TABLE aliases(
            address TEXT COLLATE tern_nocase NOT NULL,
            target TEXT NOT NULL,
            PRIMARY KEY(address, target));
        CREATE TABLE catch_alls(
            domain TEXT COLLATE tern_nocase PRIMARY KEY REFERENCES domains(name) ON DELETE CASCADE,
            target TEXT NOT NULL);
        CREATE TABLE webhooks(
            id TEXT PRIMARY KEY,
            account TEXT COLLATE tern_nocase NOT NULL,
            url TEXT NOT NULL,
            enabled BOOLEAN NOT NULL,
            friendly_name TEXT,
            events TEXT NOT NULL,
            signing_key TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            cursor BIGINT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL DEFAULT 0);
        CREATE INDEX webhooks_account ON webhooks(account);
        CREATE TABLE webhook_attempts(
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
            at BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            events INTEGER NOT NULL,
            status INTEGER,
            error TEXT,
            retry INTEGER NOT NULL,
            milliseconds INTEGER NOT NULL);
        CREATE INDEX webhook_attempts_webhook ON webhook_attempts(webhook_id, id);
        CREATE TABLE suppressions(
            account TEXT COLLATE tern_nocase NOT NULL,
            list TEXT NOT NULL,
            group_id BIGINT NOT NULL DEFAULT 0,
            email TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            reason TEXT,
            status TEXT,
            PRIMARY KEY(account, email, list, group_id));
        CREATE INDEX suppressions_list ON suppressions(account, list, group_id, created_at);
        CREATE TABLE suppression_groups(
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account TEXT COLLATE tern_nocase NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            is_default BOOLEAN NOT NULL,
            created_at BIGINT NOT NULL);
        CREATE INDEX suppression_groups_account ON suppression_groups(account);
        CREATE TABLE server_secrets(
            name TEXT PRIMARY KEY,
            value BYTEA NOT NULL);
        CREATE TABLE templates(
            id TEXT PRIMARY KEY,
            account TEXT COLLATE tern_nocase NOT NULL REFERENCES users(address) ON DELETE CASCADE,
            name TEXT NOT NULL,
            generation TEXT NOT NULL,
            updated_at BIGINT NOT NULL);
        CREATE INDEX templates_account ON templates(account);
        CREATE TABLE template_versions(
            id TEXT PRIMARY KEY,
            template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            subject TEXT NOT NULL,
            html_content TEXT NOT NULL,
            plain_content TEXT NOT NULL,
            active BOOLEAN NOT NULL,
            updated_at BIGINT NOT NULL);
        CREATE INDEX template_versions_template ON template_versions(template_id);
        CREATE TABLE web_sessions(
            token_hash BYTEA PRIMARY KEY,
            account TEXT COLLATE tern_nocase NOT NULL REFERENCES users(address) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL);
        CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
        CREATE TABLE maildrop_locks(
            account TEXT COLLATE tern_nocase PRIMARY KEY,
            node TEXT NOT NULL,
            expires_at BIGINT NOT NULL);
        """
}
