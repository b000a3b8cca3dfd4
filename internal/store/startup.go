package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// What Mastodon apps read when they open an account: reading markers,
// follow suggestions, the instance's peers and weekly activity, and the
// trends. Each read is one statement.

// Marker is where a user stopped reading a timeline.
type Marker struct {
	LastReadID int64
	Version    int64
	UpdatedAt  time.Time
}

// MarkerTimelines are the timelines a marker may be saved for.
var MarkerTimelines = []string{"home", "notifications"}

// Markers reads account's markers of the timelines named (unknown names and
// timelines never saved are absent from the map).
func (s *Store) Markers(ctx context.Context, account int64, timelines []string) (map[string]Marker, error) {
	if len(timelines) == 0 {
		return map[string]Marker{}, nil
	}
	args := append([]any{account}, strArgs(timelines)...)
	rows, err := s.read.QueryContext(ctx, `SELECT timeline, last_read_id, version, updated_at FROM markers
		WHERE account_id = ? AND timeline IN (`+placeholders(len(timelines))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("markers: %w", err)
	}
	return scanMarkers(rows)
}

func scanMarkers(rows *sql.Rows) (map[string]Marker, error) {
	defer rows.Close()
	out := map[string]Marker{}
	for rows.Next() {
		var name string
		var m Marker
		var at int64
		if err := rows.Scan(&name, &m.LastReadID, &m.Version, &at); err != nil {
			return nil, fmt.Errorf("markers: %w", err)
		}
		m.UpdatedAt = fromMs(at)
		out[name] = m
	}
	return out, rows.Err()
}

// SaveMarkers saves account's markers (timeline → last read id) in one
// transaction and returns them as stored. A save that moves a marker counts
// one more version; saving the id it already holds changes nothing, as
// Mastodon's optimistic lock does not count a save without a change.
func (s *Store) SaveMarkers(ctx context.Context, account int64, last map[string]int64, at time.Time) (map[string]Marker, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save markers: %w", err)
	}
	defer tx.Rollback()
	var names []string
	for _, name := range MarkerTimelines {
		id, ok := last[name]
		if !ok {
			continue
		}
		names = append(names, name)
		if _, err := tx.ExecContext(ctx, `INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES (?, ?, ?, 1, ?)
			ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id, version = markers.version + 1,
				updated_at = excluded.updated_at
			WHERE markers.last_read_id <> excluded.last_read_id`, account, name, id, ms(at)); err != nil {
			return nil, fmt.Errorf("save marker %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("save markers: %w", err)
	}
	if len(names) == 0 {
		return map[string]Marker{}, nil
	}
	return s.Markers(ctx, account, names)
}

// DismissSuggestion keeps target out of account's follow suggestions.
func (s *Store) DismissSuggestion(ctx context.Context, account, target int64, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO suggestion_dismissals (account_id, target_account_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id, target_account_id) DO NOTHING`, account, target, ms(at))
	if isForeignKeyViolation(err) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("dismiss suggestion: %w", err)
	}
	return nil
}

// Suggestion is an account to suggest, and why: FriendsOfFriends is how
// many of the viewer's followees follow it (0: suggested as one of the
// most followed).
type Suggestion struct {
	AccountID        int64
	FriendsOfFriends int64
}

// Suggestions lists local accounts to suggest to viewer: usable,
// discoverable, not the viewer, not followed or requested by them, not
// blocked either way, not muted and not dismissed. Those followed by the
// accounts viewer follows come first (most such followers first), then the
// most followed. One statement over the instance's local accounts.
func (s *Store) Suggestions(ctx context.Context, viewer int64, limit int) ([]Suggestion, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT a.id,
			(SELECT COUNT(*) FROM follows f1 JOIN follows f2 ON f2.account_id = f1.target_account_id
				WHERE f1.account_id = ?1 AND f2.target_account_id = a.id) AS fof,
			COALESCE(st.followers_count, 0) AS followers
		FROM accounts a JOIN users u ON u.account_id = a.id LEFT JOIN account_stats st ON st.account_id = a.id
		WHERE a.domain = '' AND a.discoverable = 1 AND a.deleted_at = 0 AND u.approved = 1 AND u.disabled = 0 AND a.id <> ?1
			AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.account_id = ?1 AND f.target_account_id = a.id)
			AND NOT EXISTS (SELECT 1 FROM follow_requests r WHERE r.account_id = ?1 AND r.target_account_id = a.id)
			AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = ?1 AND b.target_account_id = a.id)
				OR (b.account_id = a.id AND b.target_account_id = ?1))
			AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1 AND m.target_account_id = a.id)
			AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals d WHERE d.account_id = ?1 AND d.target_account_id = a.id)
		ORDER BY fof DESC, followers DESC, a.id DESC LIMIT CAST(?2 AS INTEGER)`, viewer, limit)
	if err != nil {
		return nil, fmt.Errorf("suggestions: %w", err)
	}
	defer rows.Close()
	var out []Suggestion
	for rows.Next() {
		var sg Suggestion
		var followers int64
		if err := rows.Scan(&sg.AccountID, &sg.FriendsOfFriends, &followers); err != nil {
			return nil, fmt.Errorf("suggestions: %w", err)
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}

// Peers lists the domains of the remote accounts this instance knows,
// sorted, without those of suspended domains (whose accounts a block
// removes anyway).
func (s *Store) Peers(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT a.domain FROM accounts a WHERE a.domain <> '' AND a.deleted_at = 0
		AND NOT EXISTS (SELECT 1 FROM domain_blocks b WHERE b.severity = 'suspend' AND (a.domain = b.domain OR a.domain LIKE '%.' || b.domain))
		ORDER BY a.domain`)
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// WeekActivity is one week of Mastodon's instance activity.
type WeekActivity struct {
	Week          time.Time
	Statuses      int64 // local statuses posted (not reblogs)
	Logins        int64 // local users whose last use of the instance fell in the week
	Registrations int64 // local users who signed up
}

// Activity counts the weeks starting at the given instants (each week
// lasts 7 days from its start; starts ascending) in one statement. Only the
// day of each user's last use is kept (users.last_active_at), so a user
// counts as a login in the latest week they were active and no earlier.
func (s *Store) Activity(ctx context.Context, starts []time.Time) ([]WeekActivity, error) {
	if len(starts) == 0 {
		return nil, nil
	}
	const week = int64(7 * 24 * time.Hour / time.Millisecond)
	first := ms(starts[0])
	// Statuses ids are time-ordered (internal/id: milliseconds << 16), so
	// the statuses of the weeks are one range of the primary key.
	rows, err := s.read.QueryContext(ctx, `
		SELECT 0, (s.created_at - ?1) / ?2, COUNT(*) FROM statuses s
			WHERE s.id >= ?3 AND s.local = 1 AND s.reblog_of_id IS NULL AND s.created_at >= ?1 GROUP BY 2
		UNION ALL
		SELECT 1, (u.last_active_at - ?1) / ?2, COUNT(*) FROM users u WHERE u.last_active_at >= ?1 AND u.approved = 1 GROUP BY 2
		UNION ALL
		SELECT 2, (u.created_at - ?1) / ?2, COUNT(*) FROM users u WHERE u.created_at >= ?1 GROUP BY 2`,
		first, week, first<<16)
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	defer rows.Close()
	out := make([]WeekActivity, len(starts))
	for i := range starts {
		out[i].Week = starts[i]
	}
	for rows.Next() {
		var kind, w, n int64
		if err := rows.Scan(&kind, &w, &n); err != nil {
			return nil, fmt.Errorf("activity: %w", err)
		}
		if w < 0 || w >= int64(len(out)) {
			continue
		}
		switch kind {
		case 0:
			out[w].Statuses += n
		case 1:
			out[w].Logins += n
		case 2:
			out[w].Registrations += n
		}
	}
	return out, rows.Err()
}

// TagUseDay is one day of a hashtag's use in public statuses, in a window.
type TagUseDay struct {
	Day      int // days after the window's first
	Uses     int64
	Accounts int64
}

// TagUse is a hashtag's use in the public statuses of a window of days.
type TagUse struct {
	Name string
	Days []TagUseDay
}

// TagUses counts, per hashtag and day since from (days of 24 h), the
// public original statuses that carry it and their distinct authors:
// statuses an anonymous visitor may see (the visibility rule for viewer 0)
// by accounts not silenced, local or remote. One statement, over the
// status_tags rows of statuses made since from.
func (s *Store) TagUses(ctx context.Context, from time.Time) ([]TagUse, error) {
	vis, vargs := visibleSQL("s", 0)
	const day = int64(24 * time.Hour / time.Millisecond)
	args := append([]any{ms(from), day, ms(from) << 16, ms(from)}, vargs...)
	rows, err := s.read.QueryContext(ctx, `SELECT t.name, (s.created_at - ?) / ?, COUNT(*), COUNT(DISTINCT s.account_id)
		FROM status_tags st INDEXED BY status_tags_status JOIN statuses s ON s.id = st.status_id JOIN tags t ON t.id = st.tag_id
		WHERE st.status_id >= ? AND s.created_at >= ? AND s.visibility = 0 AND s.reblog_of_id IS NULL
			AND s.account_id NOT IN (SELECT id FROM accounts WHERE silenced = 1) AND `+vis+`
		GROUP BY 1, 2 ORDER BY 1, 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("tag uses: %w", err)
	}
	defer rows.Close()
	var out []TagUse
	for rows.Next() {
		var name string
		var d TagUseDay
		if err := rows.Scan(&name, &d.Day, &d.Uses, &d.Accounts); err != nil {
			return nil, fmt.Errorf("tag uses: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, TagUse{Name: name})
		}
		out[len(out)-1].Days = append(out[len(out)-1].Days, d)
	}
	return out, rows.Err()
}

// MostSharedStatuses lists the public original statuses made since from
// with the most favourites and reblogs together (at least one), most first,
// at most limit: those an anonymous visitor may see, by accounts not
// silenced. A viewer's list is these through VisibleAmong.
func (s *Store) MostSharedStatuses(ctx context.Context, from time.Time, limit int) ([]int64, error) {
	vis, vargs := visibleSQL("s", 0)
	args := append([]any{ms(from) << 16}, vargs...)
	ids, err := s.queryIDs(ctx, `SELECT s.id FROM statuses s INDEXED BY statuses_public_timeline
		WHERE s.id >= ? AND s.visibility = 0 AND s.reblog_of_id IS NULL AND s.favourites_count + s.reblogs_count > 0
			AND s.account_id NOT IN (SELECT id FROM accounts WHERE silenced = 1) AND `+vis+`
		ORDER BY s.favourites_count + s.reblogs_count DESC, s.id DESC LIMIT CAST(? AS INTEGER)`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("most shared statuses: %w", err)
	}
	return ids, nil
}

// VisibleAmong keeps those of ids that viewer may see and has not muted
// (the visibility rule and the mute rule of lists), in the order given.
func (s *Store) VisibleAmong(ctx context.Context, viewer int64, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	vis, vargs := visibleSQL("s", viewer)
	mute, margs := notMutedSQL("s", viewer)
	kept, err := s.queryIDs(ctx, `SELECT s.id FROM json_each(?) v JOIN statuses s ON s.id = v.value WHERE `+vis+` AND `+mute,
		append(append([]any{string(list)}, vargs...), margs...)...)
	if err != nil {
		return nil, fmt.Errorf("visible statuses: %w", err)
	}
	ok := make(map[int64]bool, len(kept))
	for _, id := range kept {
		ok[id] = true
	}
	out := make([]int64, 0, len(kept))
	for _, id := range ids {
		if ok[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
