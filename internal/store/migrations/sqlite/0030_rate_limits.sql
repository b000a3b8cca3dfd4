-- Rate limits shared by every process on the database (ratelimit.Shared):
-- one row per limiter and key while the key's window lasts, the key held
-- only as a 16-byte HMAC digest under a key derived from secret_key.
-- attempts is the window's count; refused says whether the last take was
-- refused, so that the one upsert of a take reports it through RETURNING.
-- A row whose window has ended counts for nothing; the janitor deletes it
-- (rate_limits_expires).
CREATE TABLE rate_limits (
    limiter    TEXT NOT NULL,
    digest     BLOB NOT NULL,
    attempts   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    refused    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (limiter, digest)
) STRICT, WITHOUT ROWID;
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);
