-- Each process that makes ids (every serve, every admin command) leases a
-- worker number, which is part of every id it makes (internal/id): two
-- processes sharing the database never make the same id. A lease that is
-- not renewed ends, and its number goes to the next process that starts.
CREATE TABLE id_workers (
    worker     INTEGER PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
