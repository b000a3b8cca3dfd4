-- Uploaded media. file_key and preview_key name files in the media storage
-- (random, never user-chosen). A row without status_id is unattached; the
-- cleaner removes those older than a day. Only files some row names are served.
CREATE TABLE media_attachments (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id    INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
    content_type TEXT NOT NULL,
    file_key     TEXT NOT NULL DEFAULT '',
    preview_key  TEXT NOT NULL DEFAULT '',
    file_size    INTEGER NOT NULL DEFAULT 0,
    meta         TEXT NOT NULL DEFAULT '{}',
    blurhash     TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    focus_x      REAL NOT NULL DEFAULT 0,
    focus_y      REAL NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('processing', 'ready', 'failed')),
    failure      TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX media_status ON media_attachments (status_id, position);
CREATE INDEX media_unattached ON media_attachments (created_at) WHERE status_id IS NULL;
CREATE INDEX media_file ON media_attachments (file_key);
CREATE INDEX media_preview ON media_attachments (preview_key);

-- Profile images are media keys too.
ALTER TABLE accounts ADD COLUMN avatar_key TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN header_key TEXT NOT NULL DEFAULT '';
