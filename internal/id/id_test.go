package id

import (
	"strconv"
	"testing"
	"time"
)

func TestIncreasingAndTimeOrdered(t *testing.T) {
	g := NewGenerator()
	prev := int64(0)
	for i := 0; i < 200000; i++ { // crosses many milliseconds and overflows sequences
		n := g.Next()
		if n <= prev {
			t.Fatalf("id %d not greater than %d", n, prev)
		}
		prev = n
	}
	if d := time.Since(Time(prev)); d < -time.Second || d > time.Minute {
		t.Errorf("Time(id) is %v away from now", d)
	}
}

func TestSameMillisecondOverflow(t *testing.T) {
	fixed := time.UnixMilli(1_700_000_000_000)
	g := &Generator{now: func() time.Time { return fixed }}
	seen := map[int64]bool{}
	prev := int64(0)
	for i := 0; i < 70000; i++ {
		n := g.Next()
		if n <= prev || seen[n] {
			t.Fatalf("duplicate or decreasing id at %d", i)
		}
		seen[n] = true
		prev = n
	}
	if len(strconv.FormatInt(prev, 10)) < 15 {
		t.Errorf("ids too short for clients: %d", prev)
	}
}

// Two processes (two worker numbers) making ids in the same milliseconds
// never make the same one, and a generator moved to another number goes on
// increasing.
func TestWorkersNeverCollide(t *testing.T) {
	fixed := time.UnixMilli(1_700_000_000_000)
	a := &Generator{now: func() time.Time { return fixed }}
	b := &Generator{now: func() time.Time { return fixed }}
	b.SetWorker(1)
	seen := map[int64]bool{}
	for i := 0; i < 5000; i++ {
		for _, g := range []*Generator{a, b} {
			n := g.Next()
			if seen[n] {
				t.Fatalf("id %d made twice", n)
			}
			seen[n] = true
		}
	}
	prev := b.Next()
	b.SetWorker(0)
	if n := b.Next(); n <= prev || seen[n] {
		t.Fatalf("after SetWorker: %d after %d", n, prev)
	}
}
