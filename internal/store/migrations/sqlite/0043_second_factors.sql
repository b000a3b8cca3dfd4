-- Second factors (internal/secondfactor). totp_factors: one TOTP secret per
-- account, sealed with a key derived from secret_key (the database alone
-- does not reveal it); confirmed_at is 0 while the owner is enrolling;
-- last_step is the last time step a code was accepted for, so a code is
-- never accepted twice. recovery_codes: the SHA-256 of each unused code;
-- a code is deleted when used. pending_sign_ins: a sign-in whose password
-- was right and which waits for a second factor, keyed by the SHA-256 of
-- the visitor's anonymous session cookie value; new_browser (0/1): the
-- password step saw no device token of the account (the security history).
CREATE TABLE totp_factors (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    confirmed_at  INTEGER NOT NULL DEFAULT 0,
    last_step     INTEGER NOT NULL DEFAULT -1,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE TABLE recovery_codes (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, code_hash)
) STRICT;
CREATE TABLE pending_sign_ins (
    visitor_hash TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    return_to    TEXT NOT NULL,
    device       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    new_browser  INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_sign_ins_expires ON pending_sign_ins (expires_at);
CREATE INDEX pending_sign_ins_account ON pending_sign_ins (account_id);
