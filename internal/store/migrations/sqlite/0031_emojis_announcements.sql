-- Custom emojis: added by an admin (`rampart admin emoji add`), their image
-- re-encoded by the media pipeline and served on the media origin under
-- file_key (static_key: a still PNG; the same key when the image is one).
-- The media origin serves these keys as long as the row exists.
CREATE TABLE custom_emojis (
    id                INTEGER PRIMARY KEY,
    shortcode         TEXT NOT NULL,
    file_key          TEXT NOT NULL,
    static_key        TEXT NOT NULL,
    content_type      TEXT NOT NULL,
    category          TEXT NOT NULL DEFAULT '',
    visible_in_picker INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL
) STRICT;
-- Unique without regard to case, as Mastodon's are; looked up exactly.
CREATE UNIQUE INDEX custom_emojis_shortcode ON custom_emojis (lower(shortcode));
-- The media origin looks a requested key up here.
CREATE INDEX custom_emojis_file_key ON custom_emojis (file_key);
CREATE INDEX custom_emojis_static_key ON custom_emojis (static_key);

-- Announcements: an admin's notices (`rampart admin announcement add`),
-- content rendered from text once, as a status's is. starts_at and ends_at
-- are 0 when unset; an announcement is listed from published_at until
-- ends_at.
CREATE TABLE announcements (
    id           INTEGER PRIMARY KEY,
    text         TEXT NOT NULL,
    content      TEXT NOT NULL,
    mentions     TEXT NOT NULL DEFAULT '[]',
    tags         TEXT NOT NULL DEFAULT '[]',
    starts_at    INTEGER NOT NULL DEFAULT 0,
    ends_at      INTEGER NOT NULL DEFAULT 0,
    all_day      INTEGER NOT NULL DEFAULT 0,
    published_at INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Who has dismissed (read) which announcement.
CREATE TABLE announcement_dismissals (
    announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (announcement_id, account_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX announcement_dismissals_account ON announcement_dismissals (account_id);

-- Reactions to announcements: name is a Unicode emoji or a local custom
-- emoji's shortcode.
CREATE TABLE announcement_reactions (
    announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (announcement_id, account_id, name)
) STRICT, WITHOUT ROWID;
CREATE INDEX announcement_reactions_account ON announcement_reactions (account_id);
