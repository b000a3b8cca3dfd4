-- Passkeys and security keys (WebAuthn credentials), several per account.
-- credential_id is what the authenticator names the credential by (unique
-- across the instance: a discoverable sign-in finds its account by it);
-- public_key is the COSE key it registered; sign_count the last signature
-- counter seen (a counter that does not grow is refused as a clone);
-- backup_eligible and backup_state the BE/BS flags of the authenticator
-- data (BE never changes for a credential). transports: space-separated,
-- as the browser reported them. last_used_at: 0 until first used.
CREATE TABLE passkeys (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id   BYTEA NOT NULL UNIQUE,
    public_key      BYTEA NOT NULL,
    sign_count      BIGINT NOT NULL DEFAULT 0,
    aaguid          BYTEA NOT NULL,
    transports      TEXT COLLATE "C" NOT NULL DEFAULT '',
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state    INTEGER NOT NULL DEFAULT 0,
    name            TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX passkeys_account ON passkeys (account_id);
-- The WebAuthn user handle of each account that has registered a passkey:
-- 32 random bytes, never the username or the id, so that an authenticator
-- holds nothing that names the person.
CREATE TABLE passkey_handles (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    handle     BYTEA NOT NULL UNIQUE
);
-- Ceremonies in progress: the challenge and its options (the library's
-- session data, JSON) between a begin and its finish, keyed by the SHA-256
-- of the visitor's session cookie value and the kind of ceremony, at most
-- one of each kind per cookie. Taken (deleted) by the finish, so each is
-- used once; expired after a few minutes. account_id: 0 for a passwordless
-- sign-in, which names no account before it ends. name: the name a
-- registration will give the passkey.
CREATE TABLE passkey_ceremonies (
    binding    TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    account_id BIGINT NOT NULL DEFAULT 0,
    name       TEXT COLLATE "C" NOT NULL DEFAULT '',
    data       BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (binding, kind)
);
CREATE INDEX passkey_ceremonies_expires ON passkey_ceremonies (expires_at);
