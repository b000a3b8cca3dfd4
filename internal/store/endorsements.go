package store

import (
	"context"
	"fmt"
	"time"
)

// Endorse features target on account's profile (Mastodon's account pin):
// only an account it follows (ErrNotFollowed). Endorsing again changes
// nothing.
func (s *Store) Endorse(ctx context.Context, id, account, target int64, at time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("endorse: %w", err)
	}
	defer tx.Rollback()
	var follows int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM follows WHERE account_id = ? AND target_account_id = ?`, account, target).Scan(&follows); err != nil {
		return fmt.Errorf("endorse: %w", err)
	}
	if follows == 0 {
		return ErrNotFollowed
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_pins (id, account_id, target_account_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, target_account_id) DO NOTHING`, id, account, target, ms(at)); err != nil {
		return fmt.Errorf("endorse: %w", err)
	}
	return tx.Commit()
}

// Unendorse takes target off account's profile.
func (s *Store) Unendorse(ctx context.Context, account, target int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM account_pins WHERE account_id = ? AND target_account_id = ?`, account, target); err != nil {
		return fmt.Errorf("unendorse: %w", err)
	}
	return nil
}

// Endorsements pages the accounts account endorses, newest first (cursors
// are the endorsements' ids), without disabled or pending accounts.
func (s *Store) Endorsements(ctx context.Context, account int64, p Page) (accounts, cursors []int64, err error) {
	where, args, order := pageSQL("x.id", p)
	rows, err := s.read.QueryContext(ctx, `SELECT x.id, x.target_account_id FROM account_pins x WHERE x.account_id = ? AND `+where+`
		AND `+accountShownSQL("x.target_account_id")+`
		ORDER BY `+order+limitSQL, append(append([]any{account}, args...), limitArg(p))...)
	if err != nil {
		return nil, nil, fmt.Errorf("endorsements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, a int64
		if err := rows.Scan(&c, &a); err != nil {
			return nil, nil, err
		}
		cursors, accounts = append(cursors, c), append(accounts, a)
	}
	return newestFirst(p, accounts), newestFirst(p, cursors), rows.Err()
}
