-- Uploaded media. file_key and preview_key name files in the media storage
-- (random, never user-chosen). A row without status_id is unattached; the
-- cleaner removes those older than a day. Only files some row names are served.
CREATE TABLE media_attachments (
    id           BIGINT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id    BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    kind         TEXT COLLATE "C" NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
    content_type TEXT COLLATE "C" NOT NULL,
    file_key     TEXT COLLATE "C" NOT NULL DEFAULT '',
    preview_key  TEXT COLLATE "C" NOT NULL DEFAULT '',
    file_size    BIGINT NOT NULL DEFAULT 0,
    meta         TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    blurhash     TEXT COLLATE "C" NOT NULL DEFAULT '',
    description  TEXT COLLATE "C" NOT NULL DEFAULT '',
    focus_x      DOUBLE PRECISION NOT NULL DEFAULT 0,
    focus_y      DOUBLE PRECISION NOT NULL DEFAULT 0,
    state        TEXT COLLATE "C" NOT NULL DEFAULT 'ready' CHECK (state IN ('processing', 'ready', 'failed')),
    failure      TEXT COLLATE "C" NOT NULL DEFAULT '',
    position     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX media_status ON media_attachments (status_id, position);
CREATE INDEX media_unattached ON media_attachments (created_at) WHERE status_id IS NULL;
CREATE INDEX media_file ON media_attachments (file_key);
CREATE INDEX media_preview ON media_attachments (preview_key);

-- Profile images are media keys too.
ALTER TABLE accounts ADD COLUMN avatar_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN header_key TEXT COLLATE "C" NOT NULL DEFAULT '';
