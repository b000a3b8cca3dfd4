package store

import (
	"context"
	"fmt"
	"strings"
)

// escapeLike makes user text literal inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AccountSearch is what SearchAccounts looks for.
type AccountSearch struct {
	Query  string // a username prefix or a display-name substring
	Domain string // "" for local accounts
	// Following keeps only accounts the viewer follows.
	Following bool
	// DiscoverableOnly leaves out accounts that are not discoverable, except
	// the one whose username is exactly Query.
	DiscoverableOnly bool
	Limit, Offset    int
}

// SearchAccounts finds usable accounts whose username starts with the query
// or whose display name contains it (case-insensitive), exact username
// first. Accounts blocked either way are left out.
func (s *Store) SearchAccounts(ctx context.Context, viewer int64, p AccountSearch) ([]int64, error) {
	q := strings.ToLower(p.Query)
	sqlq := `SELECT a.id FROM accounts a WHERE (lower(a.username) LIKE ? ESCAPE '\' OR lower(a.display_name) LIKE ? ESCAPE '\')
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND (u.disabled = 1 OR u.approved = 0))
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = a.id AND b.target_account_id = ?) OR (b.account_id = ? AND b.target_account_id = a.id))`
	args := []any{escapeLike(q) + "%", "%" + escapeLike(q) + "%", viewer, viewer}
	if p.Domain != "" {
		sqlq += ` AND a.domain = ?`
		args = append(args, p.Domain)
	}
	if p.Following {
		sqlq += ` AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = ? AND f.target_account_id = a.id)`
		args = append(args, viewer)
	}
	if p.DiscoverableOnly {
		sqlq += ` AND (a.discoverable = 1 OR lower(a.username) = ?)`
		args = append(args, q)
	}
	sqlq += ` ORDER BY (lower(a.username) = ?) DESC, a.username LIMIT ? OFFSET ?`
	args = append(args, q, p.Limit, p.Offset)
	ids, err := s.queryIDs(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("search accounts: %w", err)
	}
	return ids, nil
}

// Tag is a hashtag.
type Tag struct {
	ID   int64
	Name string
}

// SearchTags finds tags starting with q (lower case) that are used on at
// least one status viewer can see: a tag used only in private or direct
// posts stays as private as they are.
func (s *Store) SearchTags(ctx context.Context, viewer int64, q string, limit, offset int) ([]Tag, error) {
	vis, vargs := visibleSQL("s", viewer)
	args := append([]any{escapeLike(strings.ToLower(q)) + "%"}, vargs...)
	args = append(args, strings.ToLower(q), limit, offset)
	rows, err := s.read.QueryContext(ctx, `SELECT t.id, t.name FROM tags t WHERE t.name LIKE ? ESCAPE '\'
		AND EXISTS (SELECT 1 FROM status_tags st JOIN statuses s ON s.id = st.status_id WHERE st.tag_id = t.id AND `+vis+`)
		ORDER BY (t.name = ?) DESC, t.name LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("search tags: %w", err)
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

// DeleteOldIdempotencyKeys forgets keys older than the cut-off.
func (s *Store) DeleteOldIdempotencyKeys(ctx context.Context, before int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, before)
	return err
}
