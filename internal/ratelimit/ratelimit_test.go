package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(3, time.Minute, 100)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if w := l.Wait("ip"); w != 0 {
			t.Fatalf("attempt %d: wait %v", i+1, w)
		}
		l.Fail("ip")
	}
	if w := l.Wait("ip"); w != time.Minute {
		t.Errorf("4th attempt: wait %v, want 1m", w)
	}
	if w := l.Wait("other"); w != 0 {
		t.Errorf("other key limited: %v", w)
	}
	now = now.Add(45 * time.Second)
	if w := l.Wait("ip"); w != 15*time.Second {
		t.Errorf("later: wait %v, want 15s", w)
	}
	now = now.Add(15 * time.Second)
	if w := l.Wait("ip"); w != 0 {
		t.Errorf("after the window: wait %v", w)
	}
	l.Fail("x")
	l.Fail("x")
	l.Fail("x")
	l.Reset("x")
	if w := l.Wait("x"); w != 0 {
		t.Errorf("after reset: %v", w)
	}
}

func TestBounded(t *testing.T) {
	l := New(1, time.Hour, 10)
	for i := 0; i < 1000; i++ {
		l.Fail(strconv.Itoa(i))
	}
	if len(l.entries) != 10 || l.order.Len() != 10 {
		t.Errorf("holds %d keys, cap 10", len(l.entries))
	}
	if l.Wait("999") == 0 {
		t.Error("newest key forgotten")
	}
}
