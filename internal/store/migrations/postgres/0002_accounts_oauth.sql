-- Accounts: local and (later) remote actors in one table. domain is '' for
-- local accounts; uri is the ActivityPub id. Times are Unix milliseconds.
-- As in every PostgreSQL migration: BIGINT for SQLite's INTEGER (ids are
-- 64-bit, flags hold 0/1 as the queries compare them), and COLLATE "C" on
-- every text column, so text compares and sorts byte-wise as in SQLite
-- (lower() then folds ASCII only, as SQLite's does).
CREATE TABLE accounts (
    id              BIGINT PRIMARY KEY,
    username        TEXT COLLATE "C" NOT NULL,
    domain          TEXT COLLATE "C" NOT NULL DEFAULT '',
    uri             TEXT COLLATE "C" NOT NULL UNIQUE,
    url             TEXT COLLATE "C" NOT NULL,
    display_name    TEXT COLLATE "C" NOT NULL DEFAULT '',
    note            TEXT COLLATE "C" NOT NULL DEFAULT '',
    fields          TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    locked          BIGINT NOT NULL DEFAULT 0,
    bot             BIGINT NOT NULL DEFAULT 0,
    discoverable    BIGINT NOT NULL DEFAULT 1,
    public_key_pem  TEXT COLLATE "C" NOT NULL DEFAULT '',
    private_key_pem TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_acct ON accounts (lower(username), domain);

-- Sign-in credentials and roles of local accounts.
CREATE TABLE users (
    account_id        BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email             TEXT COLLATE "C" NOT NULL,
    password_hash     TEXT COLLATE "C" NOT NULL,
    role              TEXT COLLATE "C" NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    approved          BIGINT NOT NULL DEFAULT 1,
    disabled          BIGINT NOT NULL DEFAULT 0,
    locale            TEXT COLLATE "C" NOT NULL DEFAULT 'en',
    default_privacy   TEXT COLLATE "C" NOT NULL DEFAULT 'public',
    default_sensitive BIGINT NOT NULL DEFAULT 0,
    default_language  TEXT COLLATE "C" NOT NULL DEFAULT '',
    signup_reason     TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- OAuth clients (Mastodon "applications"). The secret is stored hashed.
CREATE TABLE oauth_apps (
    id                 BIGINT PRIMARY KEY,
    name               TEXT COLLATE "C" NOT NULL,
    website            TEXT COLLATE "C" NOT NULL DEFAULT '',
    redirect_uris      TEXT COLLATE "C" NOT NULL,
    scopes             TEXT COLLATE "C" NOT NULL,
    client_id          TEXT COLLATE "C" NOT NULL UNIQUE,
    client_secret_hash TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT NOT NULL
);

-- Authorization codes: single use, short-lived, stored hashed.
CREATE TABLE oauth_codes (
    code_hash      TEXT COLLATE "C" PRIMARY KEY,
    app_id         BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri   TEXT COLLATE "C" NOT NULL,
    scopes         TEXT COLLATE "C" NOT NULL,
    code_challenge TEXT COLLATE "C" NOT NULL DEFAULT '',
    expires_at     BIGINT NOT NULL
);

-- Access tokens, stored hashed. account_id is NULL for client_credentials tokens.
CREATE TABLE oauth_tokens (
    id           BIGINT PRIMARY KEY,
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    app_id       BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id   BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    scopes       TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_account ON oauth_tokens (account_id);

-- Browser sessions (the __Host- cookie holds the id; only its hash is stored).
CREATE TABLE sessions (
    id_hash      TEXT COLLATE "C" PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    user_agent   TEXT COLLATE "C" NOT NULL DEFAULT '',
    ip           TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);
