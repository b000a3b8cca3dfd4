package store

import (
	"context"
	"fmt"
	"time"
)

// The rate_limits table holds the windows of ratelimit.Shared: the limits
// every process on the database counts together. Each operation is a
// single statement outside any transaction (on PostgreSQL atomic on its
// own, without the write lock), and a take is exactly one.

// takeRateLimitSQL checks and counts an attempt in one upsert: a key
// without a row, or whose window has ended, starts a window with this
// attempt; a key under the limit counts it; a key at the limit is refused
// and counts nothing. Every expression of the update reads the row as it
// was before this statement, and RETURNING reads what it wrote, so refused
// and expires_at are this take's outcome even when others race it (SQLite
// has one writer; PostgreSQL locks the conflicting row).
//
// ?1 limiter, ?2 digest, ?3 now (ms), ?4 the new window's end (ms), ?5 the
// limit.
const takeRateLimitSQL = `INSERT INTO rate_limits (limiter, digest, attempts, expires_at, refused) VALUES (?1, ?2, 1, ?4, 0)
ON CONFLICT (limiter, digest) DO UPDATE SET
	attempts = CASE WHEN rate_limits.expires_at <= ?3 THEN 1
		WHEN rate_limits.attempts < ?5 THEN rate_limits.attempts + 1
		ELSE rate_limits.attempts END,
	refused = CASE WHEN rate_limits.expires_at > ?3 AND rate_limits.attempts >= ?5 THEN 1 ELSE 0 END,
	expires_at = CASE WHEN rate_limits.expires_at <= ?3 THEN ?4 ELSE rate_limits.expires_at END
RETURNING refused, expires_at, attempts`

// TakeRateLimit counts one attempt of digest in limiter's window when it is
// under max, and returns 0; otherwise it counts nothing and returns how long
// until the window ends. Either way it also returns the attempts counted in
// the window (this one included) and when the window ends, which the API
// repeats to clients in its X-RateLimit headers.
func (s *Store) TakeRateLimit(ctx context.Context, limiter string, digest []byte, max int, window time.Duration, now time.Time) (wait time.Duration, attempts int, ends time.Time, err error) {
	var refused, expires int64
	if err := s.write.QueryRowContext(ctx, takeRateLimitSQL,
		limiter, digest, ms(now), ms(now.Add(window)), max).Scan(&refused, &expires, &attempts); err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("take rate limit %s: %w", limiter, err)
	}
	if refused == 0 {
		return 0, attempts, fromMs(expires), nil
	}
	return time.Duration(expires-ms(now)) * time.Millisecond, attempts, fromMs(expires), nil
}

// RefundRateLimit takes back one counted attempt of digest in its live
// window. A count that goes back to zero is deleted rather than kept: a key
// with nothing counted is no row, so an attempt that a later limit refused
// (and that was given back here) leaves nothing behind. (The window then
// starts again at the key's next attempt; its allowance is the same.)
func (s *Store) RefundRateLimit(ctx context.Context, limiter string, digest []byte, now time.Time) error {
	// Two statements, each atomic: of any number of concurrent refunds and
	// takes, each refund deletes the row or decrements a count above zero,
	// never both and never twice.
	res, err := s.write.ExecContext(ctx, `DELETE FROM rate_limits WHERE limiter = ? AND digest = ? AND expires_at > ? AND attempts <= 1`,
		limiter, digest, ms(now))
	if err != nil {
		return fmt.Errorf("refund rate limit %s: %w", limiter, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("refund rate limit %s: %w", limiter, err)
	} else if n > 0 {
		return nil
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE rate_limits SET attempts = attempts - 1
		WHERE limiter = ? AND digest = ? AND expires_at > ? AND attempts > 0`, limiter, digest, ms(now)); err != nil {
		return fmt.Errorf("refund rate limit %s: %w", limiter, err)
	}
	return nil
}

// ResetRateLimit forgets digest in limiter.
func (s *Store) ResetRateLimit(ctx context.Context, limiter string, digest []byte) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM rate_limits WHERE limiter = ? AND digest = ?`, limiter, digest); err != nil {
		return fmt.Errorf("reset rate limit %s: %w", limiter, err)
	}
	return nil
}

// RateLimitKeys is how many keys limiter holds in windows that have not
// ended. It reads all of the limiter's rows: for tests and diagnostics, never
// a request's path.
func (s *Store) RateLimitKeys(ctx context.Context, limiter string, now time.Time) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM rate_limits WHERE limiter = ? AND expires_at > ?`,
		limiter, ms(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rate limit keys of %s: %w", limiter, err)
	}
	return n, nil
}

// pruneRateLimitBatch bounds one pruning statement, so that a table a flood
// filled is emptied in short writes rather than one that holds SQLite's
// writer for as long as it takes.
const pruneRateLimitBatch = 1000

// PruneRateLimits deletes the rows whose window ended at now or before,
// through rate_limits_expires, and returns how many.
func (s *Store) PruneRateLimits(ctx context.Context, now time.Time) (int64, error) {
	q := fmt.Sprintf(`DELETE FROM rate_limits WHERE (limiter, digest) IN
		(SELECT limiter, digest FROM rate_limits WHERE expires_at <= ? LIMIT %d)`, pruneRateLimitBatch)
	var total int64
	for {
		res, err := s.write.ExecContext(ctx, q, ms(now))
		if err != nil {
			return total, fmt.Errorf("prune rate limits: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune rate limits: %w", err)
		}
		total += n
		if n < pruneRateLimitBatch {
			return total, nil
		}
	}
}
