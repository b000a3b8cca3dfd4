package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeTable records what Shared hands the database and counts as the store
// does (windows by time are the store's tests).
type fakeTable struct {
	counts  map[string]int
	digests [][]byte
	err     error
}

func (f *fakeTable) key(limiter string, digest []byte) string {
	f.digests = append(f.digests, bytes.Clone(digest))
	return limiter + "\x00" + string(digest)
}

func (f *fakeTable) TakeRateLimit(_ context.Context, limiter string, digest []byte, max int, window time.Duration, now time.Time) (time.Duration, int, time.Time, error) {
	if f.err != nil {
		return 0, 0, time.Time{}, f.err
	}
	k := f.key(limiter, digest)
	if f.counts[k] >= max {
		return window, f.counts[k], now.Add(window), nil
	}
	f.counts[k]++
	return 0, f.counts[k], now.Add(window), nil
}

func (f *fakeTable) RefundRateLimit(_ context.Context, limiter string, digest []byte, _ time.Time) error {
	if f.err != nil {
		return f.err
	}
	if k := f.key(limiter, digest); f.counts[k] > 0 {
		f.counts[k]--
	}
	return nil
}

func (f *fakeTable) ResetRateLimit(_ context.Context, limiter string, digest []byte) error {
	if f.err != nil {
		return f.err
	}
	delete(f.counts, f.key(limiter, digest))
	return nil
}

func (f *fakeTable) RateLimitKeys(_ context.Context, limiter string, _ time.Time) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	for k := range f.counts {
		if strings.HasPrefix(k, limiter+"\x00") {
			n++
		}
	}
	return n, nil
}

var testSecret = []byte("a secret every process derives alike")

// Keys reach the table as 16-byte digests of their parts' sequence, keyed
// by the shared secret: the same in two processes, different under another
// secret, and never the key itself.
func TestSharedDigestsKeys(t *testing.T) {
	ctx := context.Background()
	table := &fakeTable{counts: map[string]int{}}
	l := NewShared(table, testSecret, "l", 1, time.Minute, nil)
	if w, err := l.Take(ctx, "a", "bc"); w != 0 || err != nil {
		t.Fatalf("first take: %v, %v", w, err)
	}
	for _, k := range [][]string{{"ab", "c"}, {"abc"}} {
		if w, _ := l.Take(ctx, k...); w != 0 {
			t.Errorf("%q shares a count with (\"a\", \"bc\")", k)
		}
	}
	other := NewShared(table, testSecret, "l", 1, time.Minute, nil) // the same limiter in another process
	if w, _ := other.Take(ctx, "a", "bc"); w == 0 {
		t.Error("two processes with one secret digest a key differently")
	}
	for _, d := range table.digests {
		if len(d) != 16 || bytes.HasPrefix(d, []byte("a")) && bytes.Contains(d, []byte("bc")) {
			t.Fatalf("the table was handed %q, not a 16-byte digest", d)
		}
	}
	table.digests = nil
	NewShared(table, []byte("another instance's secret"), "l", 1, time.Minute, nil).Take(ctx, "a", "bc")
	l.Take(ctx, "a", "bc")
	if bytes.Equal(table.digests[0], table.digests[1]) {
		t.Error("two secrets digest a key alike: the digest is not keyed")
	}
}

// Refund gives back one attempt, Reset forgets the key, Len counts keys.
func TestSharedRefundResetLen(t *testing.T) {
	ctx := context.Background()
	table := &fakeTable{counts: map[string]int{}}
	l := NewShared(table, testSecret, "l", 2, time.Minute, nil)
	l.Take(ctx, "k")
	l.Take(ctx, "k")
	if w, _ := l.Take(ctx, "k"); w != time.Minute {
		t.Fatalf("over the limit: wait %v", w)
	}
	if err := l.Refund(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if w, _ := l.Take(ctx, "k"); w != 0 {
		t.Error("a refund did not give an attempt back")
	}
	if n, err := l.Len(ctx); n != 1 || err != nil {
		t.Errorf("Len: %d, %v", n, err)
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.Len(ctx); n != 0 {
		t.Errorf("Len after a reset: %d", n)
	}
}

// A database error is never an allowed attempt: Take returns it, wrapped.
func TestSharedErrorsAreNotAllowed(t *testing.T) {
	ctx := context.Background()
	down := errors.New("connection refused")
	l := NewShared(&fakeTable{err: down}, testSecret, "signin.address", 1, time.Minute, nil)
	w, err := l.Take(ctx, "k")
	if !errors.Is(err, down) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "signin.address") {
		t.Errorf("Take with the database down: %v, %v; want the error wrapped with the limiter's name", w, err)
	}
	for name, err := range map[string]error{"Refund": l.Refund(ctx, "k"), "Reset": l.Reset(ctx, "k")} {
		if !errors.Is(err, down) {
			t.Errorf("%s with the database down: %v", name, err)
		}
	}
	if _, err := l.Len(ctx); !errors.Is(err, down) {
		t.Errorf("Len with the database down: %v", err)
	}
}
