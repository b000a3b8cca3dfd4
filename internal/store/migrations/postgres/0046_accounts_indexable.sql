-- Whether a local account lets its public posts be found by full-text
-- search on other servers (Mastodon's indexable, published on the actor).
-- Until now the actor published discoverable in its place, so each local
-- account starts as it was; a remote account's is not kept (0).
ALTER TABLE accounts ADD COLUMN indexable BIGINT NOT NULL DEFAULT 0;
UPDATE accounts SET indexable = discoverable WHERE domain = '';
