package ratelimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(3, time.Minute, 100)
	l.now = func() time.Time { return now }
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
	now = now.Add(45 * time.Second)
	if w := l.Take("ip"); w != 15*time.Second {
		t.Errorf("later: wait %v, want 15s", w)
	}
	now = now.Add(15 * time.Second)
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
	l.Refund("k")
	if l.Take("k") != 0 {
		t.Error("a refunded attempt was not given back")
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

func TestBounded(t *testing.T) {
	l := New(1, time.Hour, 10)
	for i := 0; i < 1000; i++ {
		l.Take(strconv.Itoa(i))
	}
	if len(l.entries) != 10 || l.order.Len() != 10 {
		t.Errorf("holds %d keys, cap 10", len(l.entries))
	}
	if l.Take("999") == 0 {
		t.Error("newest key forgotten")
	}
}
