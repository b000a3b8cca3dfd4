package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func digestOf(s string) []byte {
	d := make([]byte, 16)
	copy(d, s)
	return d
}

// take is TakeRateLimit that fails the test on an error.
func take(t *testing.T, s *Store, limiter, key string, max int, window time.Duration, now time.Time) time.Duration {
	t.Helper()
	w, _, _, err := s.TakeRateLimit(context.Background(), limiter, digestOf(key), max, window, now)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func keys(t *testing.T, s *Store, limiter string, now time.Time) int {
	t.Helper()
	n, err := s.RateLimitKeys(context.Background(), limiter, now)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A window allows max attempts; a refused attempt counts nothing and is
// told how long is left; the window ends by time and starts again.
func TestRateLimitWindow(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "rampart.db"))
	defer s.Close()
	start := time.UnixMilli(1_700_000_000_000)
	for i := range 3 {
		if w := take(t, s, "l", "ip", 3, time.Minute, start); w != 0 {
			t.Fatalf("attempt %d: wait %v", i+1, w)
		}
	}
	if w := take(t, s, "l", "ip", 3, time.Minute, start); w != time.Minute {
		t.Errorf("4th attempt: wait %v, want 1m", w)
	}
	if w := take(t, s, "l", "other", 3, time.Minute, start); w != 0 {
		t.Errorf("another key limited: %v", w)
	}
	if w := take(t, s, "another limiter", "ip", 3, time.Minute, start); w != 0 {
		t.Errorf("the same key in another limiter limited: %v", w)
	}
	// Many refusals later, one refund still gives back exactly one attempt:
	// the refusals counted nothing.
	for range 10 {
		take(t, s, "l", "ip", 3, time.Minute, start.Add(time.Second))
	}
	if w := take(t, s, "l", "ip", 3, time.Minute, start.Add(45*time.Second)); w != 15*time.Second {
		t.Errorf("later: wait %v, want 15s", w)
	}
	if err := s.RefundRateLimit(context.Background(), "l", digestOf("ip"), start.Add(46*time.Second)); err != nil {
		t.Fatal(err)
	}
	if w := take(t, s, "l", "ip", 3, time.Minute, start.Add(47*time.Second)); w != 0 {
		t.Errorf("after a refund: wait %v", w)
	}
	if w := take(t, s, "l", "ip", 3, time.Minute, start.Add(48*time.Second)); w != 12*time.Second {
		t.Errorf("after the refunded attempt: wait %v, want 12s", w)
	}
	// The window ends by time: the next attempt starts a new one.
	if w := take(t, s, "l", "ip", 3, time.Minute, start.Add(time.Minute)); w != 0 {
		t.Errorf("after the window: wait %v", w)
	}
	for range 2 {
		take(t, s, "l", "ip", 3, time.Minute, start.Add(90*time.Second))
	}
	if w := take(t, s, "l", "ip", 3, time.Minute, start.Add(90*time.Second)); w != 30*time.Second {
		t.Errorf("the new window: wait %v, want 30s (it started at its first attempt)", w)
	}
}

func TestRateLimitRefundAndReset(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "rampart.db"))
	defer s.Close()
	now := time.UnixMilli(1_700_000_000_000)
	for range 3 {
		take(t, s, "l", "k", 3, time.Minute, now)
	}
	if err := s.RefundRateLimit(ctx, "l", digestOf("k"), now); err != nil {
		t.Fatal(err)
	}
	if take(t, s, "l", "k", 3, time.Minute, now) != 0 {
		t.Fatal("a refunded attempt was not given back")
	}
	if take(t, s, "l", "k", 3, time.Minute, now) == 0 {
		t.Error("one refund gave back more than one attempt")
	}
	// Refunds never go below nothing, and a count refunded to nothing is
	// no row at all.
	for range 5 {
		if err := s.RefundRateLimit(ctx, "l", digestOf("k"), now); err != nil {
			t.Fatal(err)
		}
	}
	if n := keys(t, s, "l", now); n != 0 {
		t.Errorf("%d keys after refunding every attempt, want 0", n)
	}
	for range 3 {
		if take(t, s, "l", "k", 3, time.Minute, now) != 0 {
			t.Fatal("refunds below nothing were kept as spare attempts, or too few were given back")
		}
	}
	if take(t, s, "l", "k", 3, time.Minute, now) == 0 {
		t.Error("refunds below nothing gave spare attempts")
	}
	// A refund after the window ended gives nothing to the next window.
	later := now.Add(time.Minute)
	if err := s.RefundRateLimit(ctx, "l", digestOf("k"), later); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if take(t, s, "l", "k", 3, time.Minute, later) != 0 {
			t.Fatal("the new window is limited")
		}
	}
	if take(t, s, "l", "k", 3, time.Minute, later) == 0 {
		t.Error("a refund of an ended window was given to the next one")
	}
	// Reset forgets the key, in its limiter only.
	take(t, s, "other", "k", 3, time.Minute, later)
	if err := s.ResetRateLimit(ctx, "l", digestOf("k")); err != nil {
		t.Fatal(err)
	}
	if take(t, s, "l", "k", 3, time.Minute, later) != 0 {
		t.Error("limited after a reset")
	}
	if n := keys(t, s, "other", later); n != 1 {
		t.Errorf("a reset in one limiter changed another: %d keys", n)
	}
}

// Two processes on one database count together: what one took, the other
// sees, refunds and resets included.
func TestRateLimitsAreSharedBetweenProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	a := open(t, path)
	defer a.Close()
	b := open(t, path) // a second process on the same database
	defer b.Close()
	now := time.UnixMilli(1_700_000_000_000)
	take(t, a, "l", "k", 3, time.Minute, now)
	take(t, b, "l", "k", 3, time.Minute, now)
	take(t, a, "l", "k", 3, time.Minute, now)
	if w := take(t, b, "l", "k", 3, time.Minute, now.Add(time.Second)); w != 59*time.Second {
		t.Fatalf("the 4th attempt, through the second process: wait %v, want 59s", w)
	}
	if err := b.RefundRateLimit(ctx, "l", digestOf("k"), now); err != nil {
		t.Fatal(err)
	}
	if take(t, a, "l", "k", 3, time.Minute, now) != 0 {
		t.Error("a refund through one process was not seen by the other")
	}
	if err := a.ResetRateLimit(ctx, "l", digestOf("k")); err != nil {
		t.Fatal(err)
	}
	if n := keys(t, b, "l", now); n != 0 {
		t.Errorf("after a reset through the other process: %d keys", n)
	}
}

// A burst of concurrent attempts through two processes lets exactly max
// through: the check and the count are one statement.
func TestRateLimitBurstThroughTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rampart.db")
	a := open(t, path)
	defer a.Close()
	b := open(t, path)
	defer b.Close()
	const max, tries = 5, 60
	now := time.Now()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, tries)
	for i := range tries {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, _, _, err := st.TakeRateLimit(context.Background(), "burst", digestOf("k"), max, time.Minute, now)
			if err != nil {
				errs <- err
				return
			}
			if w == 0 {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := allowed.Load(); n != max {
		t.Errorf("%d of %d concurrent attempts through two processes allowed, want exactly %d", n, tries, max)
	}
	// Concurrent refunds give back exactly as many attempts as they are.
	for i := range 3 {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.RefundRateLimit(context.Background(), "burst", digestOf("k"), now); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := 0
	for take(t, a, "burst", "k", max, time.Minute, now) == 0 {
		got++
	}
	if got != 3 {
		t.Errorf("3 concurrent refunds gave back %d attempts", got)
	}
}

// Pruning deletes the windows that have ended, and only those.
func TestPruneRateLimits(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "rampart.db"))
	defer s.Close()
	now := time.UnixMilli(1_700_000_000_000)
	const old = pruneRateLimitBatch + 7 // more than one batch
	for i := range old {
		take(t, s, "short", fmt.Sprint(i), 3, time.Minute, now)
	}
	take(t, s, "long", "k", 3, time.Hour, now)
	take(t, s, "short", "young", 3, time.Minute, now.Add(30*time.Second))
	n, err := s.PruneRateLimits(ctx, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != old {
		t.Errorf("pruned %d rows, want %d", n, old)
	}
	var rows int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM rate_limits`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("%d rows left, want the 2 live windows", rows)
	}
	if take(t, s, "long", "k", 1, time.Hour, now.Add(time.Minute)) == 0 {
		t.Error("a live window was pruned")
	}
}
