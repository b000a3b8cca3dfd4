package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Followed hashtags reach home timelines on write, as Mastodon's fan-out
// does: when a public original carrying a followed tag is fanned out, a
// home_feed row is written for each local account following one of its
// tags (fanOutTags). The home timeline's read is then unchanged (one walk
// of home_feed, plus the pulled followees), and so are the streams'
// HomeAudience, the visibility and mute rules applied at read, and the
// home_feed key that keeps a status once however many reasons put it
// there. A read-time union with the tags' statuses would have cost every
// home page one more statement and a walk per followed tag.

// tagFanOutSelect is the home_feed rows of the tag followers of the
// statuses listed by %s: a public original (unlisted, private and direct
// statuses and reblogs never reach a tag's followers), by an author not
// silenced (as Mastodon keeps silenced accounts from tag feeds), for
// everyone following one of its tags but the author. Blocks, mutes and the
// visibility rule are the home timeline's, at read.
const tagFanOutSelect = `SELECT DISTINCT tf.account_id, s.id, s.account_id FROM statuses s
	CROSS JOIN status_tags st INDEXED BY status_tags_status CROSS JOIN tag_follows tf INDEXED BY tag_follows_tag
	WHERE s.id IN %s AND st.status_id = s.id AND tf.tag_id = st.tag_id
	AND s.visibility = 0 AND s.reblog_of_id IS NULL AND tf.account_id != s.account_id
	AND s.account_id NOT IN (SELECT id FROM accounts WHERE silenced = 1)`

// fanOutTags writes the home_feed rows of ids' tag followers.
func fanOutTags(ctx context.Context, tx *writeTx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	in, args := inList(ids)
	q := `INSERT INTO home_feed (account_id, status_id, author_id) ` + fmt.Sprintf(tagFanOutSelect, in) + ` ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("tag followers' home feeds: %w", err)
	}
	return nil
}

// reachesTagFollowers reports whether st, carrying tags, is one a tag's
// followers get: a public original. A remote one only while it is recent
// (remoteTagWindow), as Mastodon distributes a fetched status only within
// its real-time window: an outbox read back weeks does not fill home feeds.
func reachesTagFollowers(st *Status, tags []string, now time.Time) bool {
	if len(tags) == 0 || st.Visibility != Public || st.ReblogOfID != 0 {
		return false
	}
	return st.Local || st.CreatedAt.After(now.Add(-remoteTagWindow))
}

// remoteTagWindow is Mastodon's real-time window for a remote status.
const remoteTagWindow = 6 * time.Hour

// TagFollow is a followed tag: the follow's id (the list's cursor) and the
// tag.
type TagFollow struct {
	ID  int64
	Tag Tag
}

// ensureTag returns the id of the tag name (lower case), adding it.
func ensureTag(ctx context.Context, x *writeTx, name string) (int64, error) {
	var id int64
	if err := x.QueryRowContext(ctx, `INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`,
		name).Scan(&id); err != nil {
		return 0, fmt.Errorf("tag %q: %w", name, err)
	}
	return id, nil
}

// FollowTag makes account follow the tag name (lower case), adding the tag
// if it is new; following it again changes nothing.
func (s *Store) FollowTag(ctx context.Context, id, account int64, name string, at time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("follow tag: %w", err)
	}
	defer tx.Rollback()
	tagID, err := ensureTag(ctx, tx, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tag_follows (id, account_id, tag_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, tag_id) DO NOTHING`, id, account, tagID, ms(at)); err != nil {
		return fmt.Errorf("follow tag: %w", err)
	}
	return tx.Commit()
}

// UnfollowTag ends account's follow of the tag name. The statuses it
// already put in the home timeline stay there, as on Mastodon 4.2; later
// ones no longer come.
func (s *Store) UnfollowTag(ctx context.Context, account int64, name string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM tag_follows WHERE account_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)`,
		account, name); err != nil {
		return fmt.Errorf("unfollow tag: %w", err)
	}
	return nil
}

// FollowedTags lists the tags account follows, newest follow first; the
// cursors are the follows' ids.
func (s *Store) FollowedTags(ctx context.Context, account int64, p Page) ([]TagFollow, error) {
	rows, err := s.read.QueryContext(ctx, followedTagsSQL(p), append(append([]any{account}, pageArgs(p)...), limitArg(p))...)
	if err != nil {
		return nil, fmt.Errorf("followed tags: %w", err)
	}
	defer rows.Close()
	var out []TagFollow
	for rows.Next() {
		var f TagFollow
		if err := rows.Scan(&f.ID, &f.Tag.ID, &f.Tag.Name); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return newestFirst(p, out), nil
}

func followedTagsSQL(p Page) string {
	where, _, order := pageSQL("tf.id", p)
	return `SELECT tf.id, t.id, t.name FROM tag_follows tf INDEXED BY tag_follows_account
		CROSS JOIN tags t WHERE tf.account_id = ? AND ` + where + ` AND t.id = tf.tag_id ORDER BY ` + order + limitSQL
}

// pageArgs is the arguments of pageSQL's bounds.
func pageArgs(p Page) []any {
	_, args, _ := pageSQL("x", p)
	return args
}

// TagInfo is a tag with what its entity shows a viewer.
type TagInfo struct {
	Tag
	Following bool // the viewer follows it (false for viewer 0)
}

// TagByName loads the tag name (lower case) with whether viewer follows it;
// ErrNotFound when no status or follow ever used it.
func (s *Store) TagByName(ctx context.Context, viewer int64, name string) (*TagInfo, error) {
	var t TagInfo
	err := s.read.QueryRowContext(ctx, `SELECT t.id, t.name,
		EXISTS (SELECT 1 FROM tag_follows tf WHERE tf.account_id = ? AND tf.tag_id = t.id)
		FROM tags t WHERE t.name = ?`, viewer, name).Scan(&t.ID, &t.Name, &t.Following)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tag %q: %w", name, err)
	}
	return &t, nil
}

// TagDay is one day of a tag's use: its public statuses that day, and
// their authors.
type TagDay struct {
	Day      int64 // the day's first millisecond, UTC
	Uses     int64
	Accounts int64
}

const historySQL = `SELECT st.tag_id, s.created_at / 86400000, COUNT(*), COUNT(DISTINCT s.account_id)
	FROM json_each(?) v CROSS JOIN status_tags st CROSS JOIN statuses s
	WHERE st.tag_id = v.value AND st.status_id >= ? AND s.id = st.status_id AND s.visibility = 0
	GROUP BY st.tag_id, s.created_at / 86400000`

// TagHistory counts the public statuses carrying each of the tags, and
// their authors, per UTC day, from the status id since on (ids are made
// from their time: the walk is each tag's range of status_tags from
// there). Days without use are absent.
func (s *Store) TagHistory(ctx context.Context, tags []int64, since int64) (map[int64][]TagDay, error) {
	out := map[int64][]TagDay{}
	if len(tags) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(tags)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, historySQL, string(ids), since)
	if err != nil {
		return nil, fmt.Errorf("tag history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tag int64
		var d TagDay
		if err := rows.Scan(&tag, &d.Day, &d.Uses, &d.Accounts); err != nil {
			return nil, err
		}
		d.Day *= 86400000
		out[tag] = append(out[tag], d)
	}
	return out, rows.Err()
}

// FeaturedTag is a tag featured on a profile, with the counts of its
// entity: the account's public and unlisted statuses carrying it.
type FeaturedTag struct {
	ID            int64
	Tag           Tag
	StatusesCount int64
	LastStatusAt  time.Time // zero: none
}

// ErrTooMany means a limit on rows an account keeps was reached.
var ErrTooMany = errors.New("too many")

// FeatureTag features the tag name (lower case) on account's profile,
// unless it holds max already (ErrTooMany). Featuring one again returns
// the existing row.
func (s *Store) FeatureTag(ctx context.Context, id, account int64, name string, max int, at time.Time) (int64, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("feature tag: %w", err)
	}
	defer tx.Rollback()
	var existing int64
	err = tx.QueryRowContext(ctx, `SELECT ft.id FROM featured_tags ft JOIN tags t ON t.id = ft.tag_id WHERE ft.account_id = ? AND t.name = ?`,
		account, name).Scan(&existing)
	if err == nil {
		return existing, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("feature tag: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM featured_tags WHERE account_id = ?`, account).Scan(&n); err != nil {
		return 0, fmt.Errorf("feature tag: %w", err)
	}
	if n >= max {
		return 0, ErrTooMany
	}
	tagID, err := ensureTag(ctx, tx, name)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO featured_tags (id, account_id, tag_id, created_at) VALUES (?, ?, ?, ?)`,
		id, account, tagID, ms(at)); err != nil {
		return 0, fmt.Errorf("feature tag: %w", err)
	}
	return id, tx.Commit()
}

// UnfeatureTag removes account's featured tag id; ErrNotFound when it has
// none of that id.
func (s *Store) UnfeatureTag(ctx context.Context, account, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM featured_tags WHERE id = ? AND account_id = ?`, id, account)
	if err != nil {
		return fmt.Errorf("unfeature tag: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const featuredTagsSQL = `SELECT ft.id, t.id, t.name, COALESCE(u.n, 0), COALESCE(u.last, 0)
	FROM featured_tags ft JOIN tags t ON t.id = ft.tag_id
	LEFT JOIN (SELECT st.tag_id AS tag_id, COUNT(*) AS n, MAX(s.created_at) AS last
		FROM statuses s INDEXED BY statuses_account_stats CROSS JOIN status_tags st INDEXED BY status_tags_status
		WHERE s.account_id = ? AND s.visibility IN (0, 1) AND st.status_id = s.id
		AND st.tag_id IN (SELECT f.tag_id FROM featured_tags f WHERE f.account_id = ?)
		GROUP BY st.tag_id) u ON u.tag_id = ft.tag_id
	WHERE ft.account_id = ? ORDER BY 4 DESC, ft.id`

// FeaturedTags lists account's featured tags, the most used first, in one
// statement: one walk of the account's public and unlisted statuses
// (statuses_account_stats), each checked for the featured tags (a seek of
// status_tags_status), counts them all. Its cost is the account's
// statuses, never a tag's uses across the instance.
func (s *Store) FeaturedTags(ctx context.Context, account int64) ([]FeaturedTag, error) {
	rows, err := s.read.QueryContext(ctx, featuredTagsSQL, account, account, account)
	if err != nil {
		return nil, fmt.Errorf("featured tags: %w", err)
	}
	defer rows.Close()
	var out []FeaturedTag
	for rows.Next() {
		var f FeaturedTag
		var last int64
		if err := rows.Scan(&f.ID, &f.Tag.ID, &f.Tag.Name, &f.StatusesCount, &last); err != nil {
			return nil, err
		}
		if last > 0 {
			f.LastStatusAt = time.UnixMilli(last).UTC()
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// suggestionStatuses is how many of an account's latest statuses its tag
// suggestions come from (Mastodon's RECENT_STATUS_LIMIT).
const suggestionStatuses = 1000

const suggestionsSQL = `SELECT t.id, t.name FROM (SELECT s.id FROM statuses s INDEXED BY statuses_account
		WHERE s.account_id = ? ORDER BY s.id DESC LIMIT ?) r
	CROSS JOIN status_tags st INDEXED BY status_tags_status CROSS JOIN tags t
	WHERE st.status_id = r.id AND t.id = st.tag_id
	AND st.tag_id NOT IN (SELECT f.tag_id FROM featured_tags f WHERE f.account_id = ?)
	GROUP BY t.id, t.name ORDER BY COUNT(*) DESC, t.name LIMIT ?`

// TagSuggestions lists the tags account used most in its latest
// statuses, not featured yet, at most limit: what to feature next.
func (s *Store) TagSuggestions(ctx context.Context, account int64, limit int) ([]Tag, error) {
	rows, err := s.read.QueryContext(ctx, suggestionsSQL, account, suggestionStatuses, account, limit)
	if err != nil {
		return nil, fmt.Errorf("tag suggestions: %w", err)
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.ID, &t.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
