-- A deleted local account keeps its row, as Mastodon keeps it: its key
-- still signs the Delete that tells other servers (retried for days), and
-- its username is not given to anyone else. Everything else of it goes.
ALTER TABLE accounts ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
