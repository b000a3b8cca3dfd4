package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoIDWorker means every worker number is leased by a live process.
var ErrNoIDWorker = errors.New("every id worker number is taken by a running Rampart process")

// ClaimIDWorker leases the lowest worker number below workers that no live
// process holds, to holder (a value unique to the process) until now+ttl.
func (s *Store) ClaimIDWorker(ctx context.Context, holder string, workers int, now time.Time, ttl time.Duration) (int, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("claim an id worker: %w", err)
	}
	defer tx.Rollback()
	var n int
	err = tx.QueryRowContext(ctx, `SELECT worker FROM id_workers WHERE expires_at <= ? ORDER BY worker LIMIT 1`, ms(now)).Scan(&n)
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, `UPDATE id_workers SET holder = ?, expires_at = ? WHERE worker = ?`, holder, ms(now.Add(ttl)), n)
	case errors.Is(err, sql.ErrNoRows):
		if err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(worker) + 1, 0) FROM id_workers`).Scan(&n); err != nil {
			break
		}
		if n >= workers {
			return 0, ErrNoIDWorker
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO id_workers (worker, holder, expires_at) VALUES (?, ?, ?)`, n, holder, ms(now.Add(ttl)))
	}
	if err != nil {
		return 0, fmt.Errorf("claim an id worker: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("claim an id worker: %w", err)
	}
	s.process.Store(holder)
	return n, nil
}

// Process is the identity of the process this store serves: the holder of
// its id worker lease, recorded on the jobs it claims ("" before a lease).
func (s *Store) Process() string {
	p, _ := s.process.Load().(string)
	return p
}

// RenewIDWorker extends holder's lease of worker n until now+ttl; held is
// false when the lease ended and another process took the number.
func (s *Store) RenewIDWorker(ctx context.Context, n int, holder string, now time.Time, ttl time.Duration) (held bool, err error) {
	res, err := s.write.ExecContext(ctx, `UPDATE id_workers SET expires_at = ? WHERE worker = ? AND holder = ?`, ms(now.Add(ttl)), n, holder)
	if err != nil {
		return false, fmt.Errorf("renew id worker %d: %w", n, err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renew id worker %d: %w", n, err)
	}
	return rows == 1, nil
}

// ReleaseIDWorker ends holder's lease of worker n, for the next process.
func (s *Store) ReleaseIDWorker(ctx context.Context, n int, holder string) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE id_workers SET expires_at = 0 WHERE worker = ? AND holder = ?`, n, holder); err != nil {
		return fmt.Errorf("release id worker %d: %w", n, err)
	}
	return nil
}
