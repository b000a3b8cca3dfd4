package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// FamiliarFollowers lists, for each of targets, the accounts viewer follows
// that follow it, at most perTarget each (the earliest follows first),
// leaving out the accounts viewer may not see (blocks either way, disabled
// or pending) and targets viewer may not see. One statement: for each
// target, a walk of viewer's follows (follows' unique key) with a seek of
// the same key for each; its cost is targets × viewer's following.
func (s *Store) FamiliarFollowers(ctx context.Context, viewer int64, targets []int64, perTarget int) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(targets) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(targets)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, familiarSQL, string(ids), viewer, viewer, viewer, viewer, viewer, perTarget)
	if err != nil {
		return nil, fmt.Errorf("familiar followers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var target, account int64
		if err := rows.Scan(&target, &account); err != nil {
			return nil, err
		}
		out[target] = append(out[target], account)
	}
	return out, rows.Err()
}

var familiarSQL = `SELECT target, account FROM (
		SELECT v.value AS target, f2.account_id AS account,
			ROW_NUMBER() OVER (PARTITION BY v.value ORDER BY f2.id) AS n
		FROM json_each(?) v CROSS JOIN follows f1 CROSS JOIN follows f2
		WHERE f1.account_id = ? AND f2.account_id = f1.target_account_id AND f2.target_account_id = v.value
		AND f2.account_id NOT IN ` + unseenAccountsSQL + ` AND v.value NOT IN ` + unseenAccountsSQL + `) r
	WHERE n <= CAST(? AS INTEGER) ORDER BY target, n`

// DirectoryFilter selects the profile directory's accounts and order.
type DirectoryFilter struct {
	LocalOnly bool
	New       bool // newest accounts first; else the latest to post first
	Offset    int
	Limit     int
}

// Directory lists the discoverable accounts a viewer may see, as
// Mastodon's profile directory does: not silenced, moved or deleted, no
// account viewer blocks, is blocked by or mutes, none of a domain viewer
// blocks (Mastodon's account_domain_block_scope), no disabled or pending
// one; local ones only when f asks. Ordered by their latest status
// (account_stats_last_status, newest first) or by id (newest first): a walk
// of one index, offset rows and a page long.
func (s *Store) Directory(ctx context.Context, viewer int64, f DirectoryFilter) ([]int64, error) {
	ids, err := s.queryIDs(ctx, directorySQL(f), viewer, viewer, viewer, viewer, f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	return ids, nil
}

func directorySQL(f DirectoryFilter) string {
	q := `SELECT a.id FROM account_stats ast INDEXED BY account_stats_last_status CROSS JOIN accounts a WHERE a.id = ast.account_id`
	order := `ast.last_status_at DESC, ast.account_id DESC` // the index's own order: its key, then the row id
	if f.New {
		q = `SELECT a.id FROM accounts a WHERE 1 = 1`
		order = `a.id DESC`
	}
	q += ` AND a.discoverable = 1 AND a.silenced = 0 AND a.moved_at = 0 AND a.deleted_at = 0
		AND a.id NOT IN ` + unseenAccountsSQL + ` AND a.id NOT IN (SELECT mm.target_account_id FROM mutes mm WHERE mm.account_id = ?)
		AND a.id NOT IN ` + domainBlockedAccountsSQL("?")
	if f.LocalOnly {
		// Not a seek of accounts_domain_username: every local account would
		// be read and sorted. As an expression, the walk stays the order's.
		q += ` AND CASE WHEN a.domain = '' THEN 1 ELSE 0 END = 1`
	}
	return q + ` ORDER BY ` + order + ` LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)`
}
