-- Hosts other servers serve their uploads from (an actor's avatar or header
-- on another host of its own domain, such as files.example.social for
-- example.social). No ActivityPub document is ever accepted from one: a
-- file uploaded there is not a document of that server (Mastodon
-- CVE-2024-23832).
CREATE TABLE remote_media_hosts (
    host       TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL
);
