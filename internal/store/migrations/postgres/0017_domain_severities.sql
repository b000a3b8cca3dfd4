-- Mastodon's severities of a domain block: "suspend" (nothing federates;
-- the domain's accounts are removed), "silence" (its accounts stay out of
-- the public timelines, their follows need approval, and they notify only
-- those who follow them), "noop" (neither: for reject_media alone); and
-- reject_media (no image or attachment of the domain is shown). A silenced
-- account carries the mark, so that the public timelines test one column.
ALTER TABLE domain_blocks ADD COLUMN severity TEXT COLLATE "C" NOT NULL DEFAULT 'suspend' CHECK (severity IN ('suspend', 'silence', 'noop'));
ALTER TABLE domain_blocks ADD COLUMN reject_media BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN silenced BIGINT NOT NULL DEFAULT 0;
CREATE INDEX accounts_silenced ON accounts (id) WHERE silenced = 1;
