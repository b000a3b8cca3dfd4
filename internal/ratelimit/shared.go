package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Table is where Shared limiters keep their windows: one row per limiter and
// key digest in the database every process shares. store.(*Store)
// implements it; this package declares it so as to stay below the store.
type Table interface {
	// TakeRateLimit checks and counts one attempt in one atomic step: 0 when
	// counted, else the time left in the window (and nothing counted); with
	// the attempts the window holds and when it ends.
	TakeRateLimit(ctx context.Context, limiter string, digest []byte, max int, window time.Duration, now time.Time) (wait time.Duration, attempts int, ends time.Time, err error)
	// RefundRateLimit takes back one counted attempt of a live window.
	RefundRateLimit(ctx context.Context, limiter string, digest []byte, now time.Time) error
	// ResetRateLimit forgets the key.
	ResetRateLimit(ctx context.Context, limiter string, digest []byte) error
	// RateLimitKeys counts the keys in windows that have not ended.
	RateLimitKeys(ctx context.Context, limiter string, now time.Time) (int, error)
}

// KeyLabel derives, from the instance's secret_key, the key Shared limiters
// digest their keys under: every process has the same, and the database
// alone never tells which address or login a row counts.
const KeyLabel = "rampart rate limit key v1"

// Shared allows max attempts per key per window, counted in the database, so
// that every process serving it counts together: Limiter's Take, Refund and
// Reset, each a statement or two on the Table. A key is stored as its
// 16-byte HMAC digest, never as itself.
type Shared struct {
	table  Table
	name   string
	max    int
	window time.Duration
	secret []byte
	now    func() time.Time
}

// NewShared returns the limiter called name (unique among the limiters that
// share table) allowing attempts per key per window. secret keys the digests
// and must be the same in every process (derived with KeyLabel); now is the
// clock (nil: time.Now).
func NewShared(table Table, secret []byte, name string, attempts int, window time.Duration, now func() time.Time) *Shared {
	if len(secret) == 0 {
		// Digests without a secret could be reversed for short keys (an
		// IPv4 address); callers derive one from secret_key.
		panic("ratelimit: NewShared without a secret")
	}
	if now == nil {
		now = time.Now
	}
	return &Shared{table: table, name: name, max: attempts, window: window, secret: secret, now: now}
}

// ErrUnavailable wraps every error of the database behind a limit: the
// attempt it was counting must fail, never pass unchecked.
var ErrUnavailable = errors.New("rate limit unavailable")

// Take checks and counts an attempt in one step, as Limiter.Take does: 0
// when counted, else how long to wait. An error means the attempt was
// neither checked nor counted; the caller refuses it. What is left of the
// key's allowance goes to the request's Report, if its context has one.
func (l *Shared) Take(ctx context.Context, key ...string) (time.Duration, error) {
	d := keyDigest(l.secret, key)
	wait, attempts, ends, err := l.table.TakeRateLimit(ctx, l.name, d[:], l.max, l.window, l.now())
	if err != nil {
		return 0, l.fail(err)
	}
	reportQuota(ctx, Quota{Limit: l.max, Remaining: max(l.max-attempts, 0), Reset: ends})
	return wait, nil
}

// Refund takes back one counted attempt (a Take that turned out fine).
func (l *Shared) Refund(ctx context.Context, key ...string) error {
	d := keyDigest(l.secret, key)
	if err := l.table.RefundRateLimit(ctx, l.name, d[:], l.now()); err != nil {
		return l.fail(err)
	}
	return nil
}

// Reset forgets a key.
func (l *Shared) Reset(ctx context.Context, key ...string) error {
	d := keyDigest(l.secret, key)
	if err := l.table.ResetRateLimit(ctx, l.name, d[:]); err != nil {
		return l.fail(err)
	}
	return nil
}

// Len is how many keys the limiter holds in windows that have not ended,
// across every process.
func (l *Shared) Len(ctx context.Context) (int, error) {
	n, err := l.table.RateLimitKeys(ctx, l.name, l.now())
	if err != nil {
		return 0, l.fail(err)
	}
	return n, nil
}

// Name is the limiter's name in the table.
func (l *Shared) Name() string { return l.name }

func (l *Shared) fail(err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, l.name, err)
}

// Allow takes an attempt and turns a refusal into a *WaitError naming what
// was limited. A nil Shared is a limit turned off: it allows everything.
func (l *Shared) Allow(ctx context.Context, what string, key ...string) error {
	if l == nil {
		return nil
	}
	wait, err := l.Take(ctx, key...)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &WaitError{What: what, RetryAfter: wait}
	}
	return nil
}

// Optional is NewShared, or nil (a limit that allows everything, see Allow)
// when attempts is 0.
func Optional(table Table, secret []byte, name string, attempts int, window time.Duration, now func() time.Time) *Shared {
	if attempts <= 0 {
		return nil
	}
	return NewShared(table, secret, name, attempts, window, now)
}
