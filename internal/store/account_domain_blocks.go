package store

import (
	"context"
	"fmt"
	"time"
)

// BlockDomainFor records account's own block of domain (already a
// normalized host; the service checks it) unless account blocks max
// domains already (ErrLimitReached), and deletes the notifications the
// domain's accounts gave it, as Mastodon does. What the block hides is the
// visibility rules' (notMutedSQL, Notifications); the follows it ends are
// the service's, which tells their servers.
func (s *Store) BlockDomainFor(ctx context.Context, id, account int64, domain string, at time.Time, max int) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("block domain: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO account_domain_blocks (id, account_id, domain, created_at)
		SELECT ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM account_domain_blocks WHERE account_id = ?) < ?
		ON CONFLICT (account_id, domain) DO NOTHING`, id, account, domain, ms(at), account, max)
	if err != nil {
		return fmt.Errorf("block domain: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var there int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_domain_blocks WHERE account_id = ? AND domain = ?`, account, domain).Scan(&there); err != nil {
			return fmt.Errorf("block domain: %w", err)
		}
		if there == 0 {
			return ErrLimitReached
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE account_id = ?
		AND from_account_id IN (SELECT a.id FROM accounts a WHERE a.domain = ?)`, account, domain); err != nil {
		return fmt.Errorf("block domain: %w", err)
	}
	return tx.Commit()
}

// UnblockDomainFor ends account's own block of domain.
func (s *Store) UnblockDomainFor(ctx context.Context, account int64, domain string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM account_domain_blocks WHERE account_id = ? AND domain = ?`, account, domain); err != nil {
		return fmt.Errorf("unblock domain: %w", err)
	}
	return nil
}

// DomainBlocksOf pages the domains account blocks, newest first; cursors
// are the blocks' ids.
func (s *Store) DomainBlocksOf(ctx context.Context, account int64, p Page) (domains []string, cursors []int64, err error) {
	where, args, order := pageSQL("x.id", p)
	rows, err := s.read.QueryContext(ctx, `SELECT x.id, x.domain FROM account_domain_blocks x WHERE x.account_id = ? AND `+where+
		` ORDER BY `+order+limitSQL, append(append([]any{account}, args...), limitArg(p))...)
	if err != nil {
		return nil, nil, fmt.Errorf("domain blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c int64
		var d string
		if err := rows.Scan(&c, &d); err != nil {
			return nil, nil, err
		}
		cursors, domains = append(cursors, c), append(domains, d)
	}
	return newestFirst(p, domains), newestFirst(p, cursors), rows.Err()
}

// DomainRelations are account's ties with domain's accounts that a domain
// block ends: whom it follows or asked to follow (Following), and who
// follows it (Followers) or asks to (Requesters).
type DomainRelations struct {
	Following, Followers, Requesters []int64
}

// RelationsWithDomain reads account's DomainRelations with domain.
func (s *Store) RelationsWithDomain(ctx context.Context, account int64, domain string) (DomainRelations, error) {
	var r DomainRelations
	var err error
	if r.Following, err = s.queryIDs(ctx, `SELECT a.id FROM accounts a WHERE a.domain = ? AND a.id IN
		(SELECT target_account_id FROM follows WHERE account_id = ? UNION SELECT target_account_id FROM follow_requests WHERE account_id = ?)`,
		domain, account, account); err != nil {
		return r, fmt.Errorf("relations with %s: %w", domain, err)
	}
	if r.Followers, err = s.queryIDs(ctx, `SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id
		WHERE f.target_account_id = ? AND a.domain = ?`, account, domain); err != nil {
		return r, fmt.Errorf("relations with %s: %w", domain, err)
	}
	if r.Requesters, err = s.queryIDs(ctx, `SELECT f.account_id FROM follow_requests f JOIN accounts a ON a.id = f.account_id
		WHERE f.target_account_id = ? AND a.domain = ?`, account, domain); err != nil {
		return r, fmt.Errorf("relations with %s: %w", domain, err)
	}
	return r, nil
}
