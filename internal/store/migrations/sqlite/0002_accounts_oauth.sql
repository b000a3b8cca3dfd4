-- Accounts: local and (later) remote actors in one table. domain is '' for
-- local accounts; uri is the ActivityPub id. Times are Unix milliseconds.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL,
    domain          TEXT NOT NULL DEFAULT '',
    uri             TEXT NOT NULL UNIQUE,
    url             TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    fields          TEXT NOT NULL DEFAULT '[]',
    locked          INTEGER NOT NULL DEFAULT 0,
    bot             INTEGER NOT NULL DEFAULT 0,
    discoverable    INTEGER NOT NULL DEFAULT 1,
    public_key_pem  TEXT NOT NULL DEFAULT '',
    private_key_pem TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX accounts_acct ON accounts (lower(username), domain);

-- Sign-in credentials and roles of local accounts.
CREATE TABLE users (
    account_id        INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email             TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    role              TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    approved          INTEGER NOT NULL DEFAULT 1,
    disabled          INTEGER NOT NULL DEFAULT 0,
    locale            TEXT NOT NULL DEFAULT 'en',
    default_privacy   TEXT NOT NULL DEFAULT 'public',
    default_sensitive INTEGER NOT NULL DEFAULT 0,
    default_language  TEXT NOT NULL DEFAULT '',
    signup_reason     TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- OAuth clients (Mastodon "applications"). The secret is stored hashed.
CREATE TABLE oauth_apps (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    website            TEXT NOT NULL DEFAULT '',
    redirect_uris      TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    client_id          TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    created_at         INTEGER NOT NULL
) STRICT;

-- Authorization codes: single use, short-lived, stored hashed.
CREATE TABLE oauth_codes (
    code_hash      TEXT PRIMARY KEY,
    app_id         INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    expires_at     INTEGER NOT NULL
) STRICT;

-- Access tokens, stored hashed. account_id is NULL for client_credentials tokens.
CREATE TABLE oauth_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    app_id       INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id   INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX oauth_tokens_account ON oauth_tokens (account_id);

-- Browser sessions (the __Host- cookie holds the id; only its hash is stored).
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_account ON sessions (account_id);
