-- Domains the admin allows when federation.mode = "allowlist" (Mastodon's
-- limited federation mode): only they and their subdomains are fetched
-- from, accepted and delivered to. domain is lower-case, without port or
-- trailing dot.
CREATE TABLE domain_allows (
    domain     TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL
);
