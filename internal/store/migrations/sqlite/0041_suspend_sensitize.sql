-- The staff's suspension and sensitization of one account, local or remote
-- (Mastodon's suspended_at and sensitized_at; 0: not). A suspended account
-- and all of it is hidden from everyone by the visibility rule
-- (store/visibility.go), its user cannot sign in; nothing is deleted, so
-- unsuspending restores it. A sensitized account's media are shown as
-- sensitive.
ALTER TABLE accounts ADD COLUMN suspended_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN sensitized_at INTEGER NOT NULL DEFAULT 0;
-- The rule reads the (few) suspended accounts once per statement.
CREATE INDEX accounts_suspended ON accounts (id) WHERE suspended_at <> 0;
