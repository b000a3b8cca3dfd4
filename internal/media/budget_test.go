package media

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitFor polls cond until it holds (the budget's waiters park in Acquire,
// so a test can only observe them from outside).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func (b *byteBudget) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}

func TestByteBudgetAdmitsByBytesInArrivalOrder(t *testing.T) {
	ctx := context.Background()
	b := newByteBudget(100)
	if _, err := b.Acquire(ctx, 101); err == nil {
		t.Fatal("a request larger than the budget was accepted: it could never be granted")
	}
	first, err := b.Acquire(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	// 50 does not fit beside 60: it waits. 10 would fit, but arrives after
	// 50 and must not overtake it (a large request is never starved).
	type result struct {
		name    string
		release func()
	}
	got := make(chan result, 2)
	for _, r := range []struct {
		name string
		n    int64
	}{{"fifty", 50}, {"ten", 10}} {
		go func() {
			rel, err := b.Acquire(ctx, r.n)
			if err != nil {
				t.Error(err)
			}
			got <- result{r.name, rel}
		}()
		waitFor(t, r.name+" waits", func() bool { return b.waiting() >= map[string]int{"fifty": 1, "ten": 2}[r.name] })
	}
	if n := b.inUse(); n != 60 {
		t.Fatalf("in use %d, want 60", n)
	}
	first()
	first() // a second release changes nothing
	r1, r2 := <-got, <-got
	if r1.name != "fifty" && r2.name != "fifty" {
		t.Fatalf("admitted %s and %s", r1.name, r2.name)
	}
	if n := b.inUse(); n != 60 {
		t.Errorf("in use %d after both were admitted, want 60 (a double release must not free bytes twice)", n)
	}
	r1.release()
	r2.release()
	if n := b.inUse(); n != 0 {
		t.Errorf("in use %d after every release", n)
	}
}

func TestByteBudgetWaitEndsWithTheContext(t *testing.T) {
	b := newByteBudget(100)
	all, _ := b.Acquire(context.Background(), 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx, 80)
		done <- err
	}()
	// A small request queued behind the cancelled large one must be
	// admitted once that one leaves the queue, without waiting for more.
	waitFor(t, "the large request waits", func() bool { return b.waiting() == 1 })
	small := make(chan func(), 1)
	go func() {
		rel, err := b.Acquire(context.Background(), 20)
		if err != nil {
			t.Error(err)
		}
		small <- rel
	}()
	waitFor(t, "the small request waits", func() bool { return b.waiting() == 2 })
	cancel()
	if err := within(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire after cancel = %v", err)
	}
	all()
	(<-small)()
	if n := b.inUse(); n != 0 || b.waiting() != 0 {
		t.Errorf("in use %d, %d waiting: the cancelled request kept its place or its bytes", n, b.waiting())
	}
}
