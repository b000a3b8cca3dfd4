package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SetAccountNote keeps account's private note on target; an empty comment
// removes it.
func (s *Store) SetAccountNote(ctx context.Context, account, target int64, comment string, at time.Time) error {
	var err error
	if comment == "" {
		_, err = s.write.ExecContext(ctx, `DELETE FROM account_notes WHERE account_id = ? AND target_account_id = ?`, account, target)
	} else {
		_, err = s.write.ExecContext(ctx, `INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, target_account_id) DO UPDATE SET comment = excluded.comment, updated_at = excluded.updated_at`,
			account, target, comment, ms(at))
	}
	if err != nil {
		return fmt.Errorf("account note: %w", err)
	}
	return nil
}

// ThreadDepth bounds the walk up a reply chain to its root: a thread
// deeper than this is named, and its mutes found, by the status this many
// replies up.
const ThreadDepth = 256

// ThreadRoot is the root of status's thread: the furthest status its reply
// chain reaches (status itself when it replies to nothing stored).
func (s *Store) ThreadRoot(ctx context.Context, status int64) (int64, error) {
	var root int64
	err := s.read.QueryRowContext(ctx, `WITH RECURSIVE up(id, depth) AS (
			SELECT id, 0 FROM statuses WHERE id = ?
			UNION ALL
			SELECT p.in_reply_to_id, up.depth + 1 FROM up CROSS JOIN statuses p
			WHERE p.id = up.id AND p.in_reply_to_id IS NOT NULL AND up.depth < ?)
		SELECT up.id FROM up CROSS JOIN statuses s WHERE s.id = up.id ORDER BY up.depth DESC LIMIT 1`, status, ThreadDepth).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("thread root: %w", err)
	}
	return root, nil
}

// MuteConversation mutes the thread whose root is root for account.
func (s *Store) MuteConversation(ctx context.Context, account, root int64, at time.Time) error {
	if _, err := s.write.ExecContext(ctx, `INSERT INTO conversation_mutes (account_id, status_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id, status_id) DO NOTHING`, account, root, ms(at)); err != nil {
		return fmt.Errorf("mute conversation: %w", err)
	}
	return nil
}

// UnmuteConversation ends account's mute of the thread whose root is root.
func (s *Store) UnmuteConversation(ctx context.Context, account, root int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM conversation_mutes WHERE account_id = ? AND status_id = ?`, account, root); err != nil {
		return fmt.Errorf("unmute conversation: %w", err)
	}
	return nil
}

// mutedThreadsCTE walks up from each status of an id list (in, from
// inList) as up(start, id, depth): start is the status, id each of its
// chain, itself included. A start is in a muted thread when one of its
// chain is a viewer's conversation_mutes root. It is the WITH of a
// statement: its arguments come first.
func mutedThreadsCTE(in string, list []any) (string, []any) {
	return `WITH RECURSIVE up(start, id, depth) AS (
			SELECT id, id, 0 FROM statuses WHERE id IN ` + in + `
			UNION ALL
			SELECT up.start, p.in_reply_to_id, up.depth + 1 FROM up CROSS JOIN statuses p
			WHERE p.id = up.id AND p.in_reply_to_id IS NOT NULL AND up.depth < ?) `, append(append([]any(nil), list...), ThreadDepth)
}

// mutedFlagSQL is the viewer flags' 'm' rows after mutedThreadsCTE: the
// statuses in a thread the viewer (its one argument) muted. Each status of
// a chain seeks the mute by its primary key.
const mutedFlagSQL = `SELECT up.start, 'm' FROM up CROSS JOIN conversation_mutes cm WHERE cm.status_id = up.id AND cm.account_id = ?`

// mutedFlagsManySQL is mutedFlagSQL for many viewers (a JSON array of
// ids), with the viewer first: each status of a chain reads the mutes of
// that status (conversation_mutes_status), not each viewer's mutes.
const mutedFlagsManySQL = `SELECT cm.account_id, up.start, 'm' FROM up CROSS JOIN conversation_mutes cm
	WHERE cm.status_id = up.id AND cm.account_id IN (SELECT v.value FROM json_each(?) v)`

// threadMutedSQL is true when status (a bound parameter) is in a thread
// account (another) muted. Its arguments are status, ThreadDepth and
// account, in that order (threadMutedArgs).
const threadMutedSQL = `EXISTS (WITH RECURSIVE up(id, depth) AS (
		SELECT id, 0 FROM statuses WHERE id = ?
		UNION ALL
		SELECT p.in_reply_to_id, up.depth + 1 FROM up CROSS JOIN statuses p
		WHERE p.id = up.id AND p.in_reply_to_id IS NOT NULL AND up.depth < ?)
	SELECT 1 FROM up CROSS JOIN conversation_mutes cm WHERE cm.status_id = up.id AND cm.account_id = ?)`

func threadMutedArgs(status, account int64) []any { return []any{status, ThreadDepth, account} }

// ThreadMuted reports whether status is in a thread account muted.
func (s *Store) ThreadMuted(ctx context.Context, account, status int64) (bool, error) {
	var muted bool
	if err := s.read.QueryRowContext(ctx, `SELECT `+threadMutedSQL, threadMutedArgs(status, account)...).Scan(&muted); err != nil {
		return false, fmt.Errorf("thread muted: %w", err)
	}
	return muted, nil
}

// VisibleAccountIDs returns, in the order asked and each once, those of ids
// that others may see: stored, and not a pending, disabled or deleted local
// account.
func (s *Store) VisibleAccountIDs(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, list := inList(ids)
	found, err := s.queryIDs(ctx, `SELECT a.id FROM accounts a WHERE a.id IN `+in+` AND a.deleted_at = 0
		AND `+accountShownSQL("a.id"), list...)
	if err != nil {
		return nil, fmt.Errorf("visible accounts: %w", err)
	}
	seen := make(map[int64]bool, len(found))
	for _, id := range found {
		seen[id] = true
	}
	out := make([]int64, 0, len(found))
	for _, id := range ids {
		if seen[id] {
			out = append(out, id)
			seen[id] = false
		}
	}
	return out, nil
}
