-- Domains the admin has blocked (Mastodon's "suspend"): nothing of theirs is
-- stored, fetched or served to them. A block covers the domain's
-- subdomains; domain is lower-case, without port or trailing dot.
CREATE TABLE domain_blocks (
    domain     TEXT COLLATE "C" PRIMARY KEY,
    reason     TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
