-- The durable job queue: work that must not run inside a request and must
-- not be lost (internal/jobs). A job is a row committed in the same
-- transaction as the change that causes it; workers claim due jobs with a
-- lease (a crashed worker's jobs come back when it ends), retry them with
-- backoff, and bury those that keep failing (state 'dead', kept for the
-- admin) or cannot succeed.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    host        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
    run_at      INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;
-- Due pending jobs, soonest first: the claim's walk.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'pending';
