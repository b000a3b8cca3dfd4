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

// prefixRange is the range of strings that start with prefix, for an
// index seek instead of a LIKE that reads every row: [prefix, prefix + the
// highest code point).
func prefixRange(prefix string) (from, to string) { return prefix, prefix + string(rune(0x10FFFF)) }

// SearchAccounts finds usable accounts whose username starts with the query
// or, for a signed-in viewer, whose display name contains it
// (case-insensitive), exact username first. Accounts blocked either way are
// left out. An anonymous search is a walk of the username index from the
// prefix, so it costs its page whatever the number of accounts; a display-name
// match reads every account, and only signed-in users may ask for one.
func (s *Store) SearchAccounts(ctx context.Context, viewer int64, p AccountSearch) ([]int64, error) {
	sqlq, args := searchAccountsSQL(viewer, p)
	ids, err := s.queryIDs(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("search accounts: %w", err)
	}
	return ids, nil
}

func searchAccountsSQL(viewer int64, p AccountSearch) (string, []any) {
	q := strings.ToLower(p.Query)
	from, to := prefixRange(q)
	match := `lower(a.username) >= ? AND lower(a.username) < ?`
	args := []any{from, to}
	order := ` ORDER BY lower(a.username), a.domain`
	if viewer != 0 {
		match = `(lower(a.username) LIKE ? ESCAPE '\' OR lower(a.display_name) LIKE ? ESCAPE '\')`
		args = []any{escapeLike(q) + "%", "%" + escapeLike(q) + "%"}
		order = ` ORDER BY (lower(a.username) = ?) DESC, a.username`
	}
	table := `accounts a`
	if viewer == 0 && p.Domain != "" {
		table = `accounts a INDEXED BY accounts_domain_username`
	}
	sqlq := `SELECT a.id FROM ` + table + ` WHERE ` + match + `
		AND ` + accountShownSQL("a.id") + `
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = a.id AND b.target_account_id = ?) OR (b.account_id = ? AND b.target_account_id = a.id))`
	args = append(args, viewer, viewer)
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
	sqlq += order + ` LIMIT ? OFFSET ?`
	if viewer != 0 {
		args = append(args, q)
	}
	return sqlq, append(args, p.Limit, p.Offset)
}

// Tag is a hashtag.
type Tag struct {
	ID   int64
	Name string
}

// tagUsesChecked is how many of a tag's latest uses SearchTags looks at for
// one the viewer may see, so a tag used a million times in private posts
// costs what one used fifty times does.
const tagUsesChecked = 50

// SearchTags finds tags starting with q (lower case) that are used on at
// least one status viewer can see among their latest uses: a tag used only
// in private or direct posts stays as private as they are. It walks the
// name index from the prefix, exact name first.
func (s *Store) SearchTags(ctx context.Context, viewer int64, q string, limit, offset int) ([]Tag, error) {
	sqlq, args := searchTagsSQL(viewer, q, limit, offset)
	rows, err := s.read.QueryContext(ctx, sqlq, args...)
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

func searchTagsSQL(viewer int64, q string, limit, offset int) (string, []any) {
	vis, vargs := visibleSQL("s", viewer)
	from, to := prefixRange(strings.ToLower(q))
	args := append([]any{from, to, int64(tagUsesChecked)}, vargs...)
	return `SELECT t.id, t.name FROM tags t WHERE t.name >= ? AND t.name < ?
		AND EXISTS (SELECT 1 FROM (SELECT st.status_id FROM status_tags st WHERE st.tag_id = t.id ORDER BY st.status_id DESC LIMIT ?) r
			JOIN statuses s ON s.id = r.status_id WHERE ` + vis + `)
		ORDER BY t.name LIMIT ? OFFSET ?`, append(args, int64(limit), int64(offset))
}

// DeleteOldIdempotencyKeys forgets keys older than the cut-off.
func (s *Store) DeleteOldIdempotencyKeys(ctx context.Context, before int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, before)
	return err
}
