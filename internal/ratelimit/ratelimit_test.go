package ratelimit

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock makes l read the time from the returned pointer.
func fakeClock(l *Limiter) *time.Time {
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	return &now
}

func TestWindow(t *testing.T) {
	l := New(3, time.Minute, 100)
	now := fakeClock(l)
	for i := 0; i < 3; i++ {
		if w := l.Take("ip"); w != 0 {
			t.Fatalf("attempt %d: wait %v", i+1, w)
		}
	}
	if w := l.Take("ip"); w != time.Minute {
		t.Errorf("4th attempt: wait %v, want 1m", w)
	}
	if w := l.Take("other"); w != 0 {
		t.Errorf("other key limited: %v", w)
	}
	*now = now.Add(45 * time.Second)
	if w := l.Take("ip"); w != 15*time.Second {
		t.Errorf("later: wait %v, want 15s", w)
	}
	*now = now.Add(15 * time.Second)
	if w := l.Take("ip"); w != 0 {
		t.Errorf("after the window: wait %v", w)
	}
	for range 3 {
		l.Take("x")
	}
	l.Reset("x")
	if w := l.Take("x"); w != 0 {
		t.Errorf("after reset: %v", w)
	}
}

func TestRefundGivesBackOneAttemptOnly(t *testing.T) {
	l := New(3, time.Minute, 100)
	fakeClock(l)
	for range 3 {
		l.Take("k")
	}
	l.Refund("k")
	if l.Take("k") != 0 {
		t.Fatal("a refunded attempt was not given back")
	}
	if l.Take("k") == 0 {
		t.Error("one refund gave back more than one attempt")
	}
}

func TestTakeIsAtomicUnderConcurrency(t *testing.T) {
	l := New(3, time.Minute, 100)
	var wg sync.WaitGroup
	var allowed atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.Take("k") == 0 {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 3 {
		t.Errorf("%d of 50 concurrent attempts allowed, want exactly 3", n)
	}
}

func TestKeysAreTheSequenceOfTheirParts(t *testing.T) {
	l := New(1, time.Minute, 100)
	l.Take("a", "bc")
	if l.Take("ab", "c") != 0 || l.Take("abc") != 0 {
		t.Error("different part sequences share a count")
	}
	if l.Take("a", "bc") == 0 {
		t.Error("the same parts are not the same key")
	}
	// The digest is keyed per limiter: nobody can precompute collisions.
	if New(1, time.Minute, 1).digest([]string{"k"}) == New(1, time.Minute, 1).digest([]string{"k"}) {
		t.Error("two limiters digest a key alike: the digest is not keyed by a random secret")
	}
}

func TestAddressKeyGroupsIPv6By64(t *testing.T) {
	if a, b := AddressKey("2001:db8:1:2::1"), AddressKey("2001:db8:1:2:ffff::9"); a != b || a != "2001:db8:1:2::/64" {
		t.Errorf("same /64 gives %q and %q", a, b)
	}
	if AddressKey("203.0.113.4") != "203.0.113.4" || AddressKey("unix") != "unix" {
		t.Error("IPv4 and non-addresses are keys as they are")
	}
}

func TestNetworkKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.4":          "203.0.113.0/24",
		"203.0.113.254":        "203.0.113.0/24",
		"::ffff:203.0.113.9":   "203.0.113.0/24",
		"2001:db8:1:2::1":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "2001:db8:1:2::/64",
		"unix":                 "unix",
	} {
		if got := NetworkKey(in); got != want {
			t.Errorf("NetworkKey(%q) = %q, want %q", in, got, want)
		}
	}
	if NetworkKey("203.0.113.4") == NetworkKey("203.0.114.4") {
		t.Error("two /24s share a key")
	}
}

func TestBounded(t *testing.T) {
	l := New(1, time.Hour, 10)
	for i := 0; i < 1000; i++ {
		l.Take(strconv.Itoa(i))
	}
	if len(l.entries) != 10 || l.order.n != 10 || len(l.order.buf) > 10 {
		t.Errorf("holds %d keys in %d items (ring of %d), cap 10", len(l.entries), l.order.n, len(l.order.buf))
	}
	if l.Take("999") == 0 {
		t.Error("newest key forgotten")
	}
	if l.Take("0") != 0 {
		t.Error("oldest key kept past the capacity")
	}
}

func TestResetsLeaveNothingBehind(t *testing.T) {
	l := New(1, time.Hour, 10)
	fakeClock(l)
	for i := 0; i < 1000; i++ {
		l.Take("k")
		l.Reset("k")
		l.Take(strconv.Itoa(i % 5))
	}
	if len(l.entries) > 10 || l.order.n > 10 || len(l.order.buf) > 10 {
		t.Errorf("after resets: %d keys, %d items, ring of %d (cap 10)", len(l.entries), l.order.n, len(l.order.buf))
	}
}

// Windows end by time: nothing has to touch a key again for it to go.
func TestWindowsEndByTime(t *testing.T) {
	l := New(3, time.Minute, 100_000)
	now := fakeClock(l)
	for i := 0; i < 5000; i++ {
		l.Take("key", strconv.Itoa(i))
		if i%1000 == 0 {
			*now = now.Add(time.Second)
		}
	}
	if n := l.Len(); n != 5000 {
		t.Fatalf("holds %d keys, want 5000", n)
	}
	*now = now.Add(time.Minute)
	l.Take("one more") // an insert sweeps what has ended
	if len(l.entries) != 1 || l.order.n != 1 {
		t.Errorf("after the window: %d keys and %d items held, want 1", len(l.entries), l.order.n)
	}
	*now = now.Add(time.Minute)
	if n := l.Len(); n != 0 {
		t.Errorf("Len after every window ended: %d", n)
	}
	// A window that has not ended stays while older ones go.
	l.Take("old")
	*now = now.Add(30 * time.Second)
	l.Take("young")
	*now = now.Add(30 * time.Second)
	if n := l.Len(); n != 1 || l.Take("young") != 0 {
		t.Errorf("after the first window ended: %d keys", n)
	}
}

// Huge, unique, attacker-chosen keys cost a fixed size each: the limiter
// holds digests, never the keys.
func TestHugeKeysKeepMemoryConstant(t *testing.T) {
	const n, size = 200, 1 << 20
	big := strings.Repeat("x", size)
	l := New(5, time.Hour, 100_000)
	before := heapInUse()
	for i := 0; i < n; i++ {
		if l.Take(strconv.Itoa(i)+big) != 0 {
			t.Fatal("a fresh key was limited")
		}
	}
	if got := l.Len(); got != n {
		t.Fatalf("holds %d keys, want %d", got, n)
	}
	grew := int64(heapInUse()) - int64(before)
	// 200 digests and their ring are a few KiB; keeping the keys would be 200 MiB.
	if grew > 1<<20 {
		t.Errorf("the heap grew by %d KiB holding %d keys of 1 MiB", grew>>10, n)
	}
	small := New(5, time.Hour, 50)
	for i := 0; i < n; i++ {
		small.Take(strconv.Itoa(i) + big)
	}
	if got := small.Len(); got != 50 {
		t.Errorf("capacity 50 holds %d keys", got)
	}
	runtime.KeepAlive(l)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A window started again after a reset is not ended by the one before it.
func TestRestartedWindowOutlivesItsPredecessor(t *testing.T) {
	l := New(1, time.Minute, 100)
	now := fakeClock(l)
	l.Take("older") // keeps k's first item from the front, where Reset would drop it at once
	l.Take("k")
	l.Reset("k")
	*now = now.Add(30 * time.Second)
	if l.Take("k") != 0 {
		t.Fatal("a reset key is limited")
	}
	*now = now.Add(30 * time.Second) // the first window has ended, the second has not
	if w := l.Take("k"); w != 30*time.Second {
		t.Errorf("the restarted window: wait %v, want 30s", w)
	}
}

// When full, a stale item frees a place without evicting the live window of
// its key.
func TestEvictionSkipsStaleItems(t *testing.T) {
	l := New(1, time.Hour, 2)
	fakeClock(l)
	l.Take("older")
	l.Take("k")
	l.Reset("k")  // k's item goes stale behind "older"
	l.Take("k")   // full: "older" goes
	l.Take("new") // full: k's stale item goes, not k
	if l.Take("k") == 0 {
		t.Error("evicting a stale item dropped the live window of its key")
	}
	if l.Take("older") != 0 {
		t.Error("the oldest window was kept past the capacity")
	}
}

// A stale item does not hold up the end of windows behind it.
func TestStaleItemsDoNotHoldUpTheSweep(t *testing.T) {
	l := New(1, time.Minute, 100)
	now := fakeClock(l)
	start := *now
	l.Take("older")
	l.Take("k")
	l.Reset("k") // k's first item goes stale behind "older"
	*now = start.Add(10 * time.Second)
	l.Take("a")
	*now = start.Add(30 * time.Second)
	l.Take("k")
	*now = start.Add(71 * time.Second) // "a" has ended, k's second window has not
	if w := l.Take("a"); w != 0 {
		t.Errorf("a window that has ended still limits (wait %v)", w)
	}
	if l.Take("k") == 0 {
		t.Error("k's live window was dropped")
	}
}
