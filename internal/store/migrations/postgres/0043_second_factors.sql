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
    account_id    BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sealed_secret TEXT COLLATE "C" NOT NULL,
    confirmed_at  BIGINT NOT NULL DEFAULT 0,
    last_step     BIGINT NOT NULL DEFAULT -1,
    created_at    BIGINT NOT NULL
);
CREATE TABLE recovery_codes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, code_hash)
);
CREATE TABLE pending_sign_ins (
    visitor_hash TEXT COLLATE "C" PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    return_to    TEXT COLLATE "C" NOT NULL,
    device       TEXT COLLATE "C" NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    new_browser  BIGINT NOT NULL DEFAULT 0,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX pending_sign_ins_expires ON pending_sign_ins (expires_at);
CREATE INDEX pending_sign_ins_account ON pending_sign_ins (account_id);
