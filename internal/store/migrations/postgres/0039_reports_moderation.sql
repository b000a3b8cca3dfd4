-- Reports from local users and their handling by the staff (Mastodon's
-- Report and Admin::Report): a category (spam, legal, violation, other), the
-- instance rules a violation names, whether it was forwarded to the target's
-- server, the moderator it is assigned to and the one who resolved it, and
-- when it last changed. resolved_at stays the action_taken_at. The two
-- moderators are plain ids: local accounts keep their rows when deleted.
ALTER TABLE reports ADD COLUMN category TEXT COLLATE "C" NOT NULL DEFAULT 'other' CHECK (category IN ('spam', 'legal', 'violation', 'other'));
ALTER TABLE reports ADD COLUMN rule_ids TEXT COLLATE "C" NOT NULL DEFAULT '[]';
ALTER TABLE reports ADD COLUMN forwarded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN assigned_account_id BIGINT;
ALTER TABLE reports ADD COLUMN action_taken_by_account_id BIGINT;
ALTER TABLE reports ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE reports SET updated_at = GREATEST(created_at, resolved_at);
-- The admin list's filters: by reporter and by target.
CREATE INDEX reports_account ON reports (account_id, id);
CREATE INDEX reports_target ON reports (target_account_id, id);
-- A staff member's admin.report notification names its report.
ALTER TABLE notifications ADD COLUMN report_id BIGINT;
