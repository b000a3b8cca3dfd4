-- Sessions and apps a person controls (issue 16, part 4), and the account's
-- security event log (part 6).
--
-- last_seen_at / last_used_at are written at most once an hour (see
-- store.LastUseEvery): a use within the hour writes nothing. 0 is "not
-- recorded yet" (rows from before this migration). A token's expires_at is
-- NULL when it never expires (security.access_token_lifetime = 0, the
-- default, as Mastodon).
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_tokens ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE oauth_tokens ADD COLUMN expires_at INTEGER;

-- Security events of an account, shown on /settings/history. address is
-- already truncated (IPv4 /24, IPv6 /48) and user_agent bounded when
-- written; the janitor keeps the newest 100 per account, none older than a
-- year.
CREATE TABLE security_events (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX security_events_account ON security_events (account_id, created_at);
