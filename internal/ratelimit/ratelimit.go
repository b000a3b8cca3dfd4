// Package ratelimit counts failures per key (a client address, an account
// name) in a fixed window and says how long a key must wait. It is bounded:
// when full it forgets the oldest windows first, so a flood of distinct keys
// cannot grow memory without limit.
package ratelimit

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Limiter allows Max failures per key per Window.
type Limiter struct {
	max    int
	window time.Duration
	cap    int
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // oldest window start at the front
}

type entry struct {
	key   string
	start time.Time
	count int
}

// New returns a limiter holding at most capacity keys.
func New(max int, window time.Duration, capacity int) *Limiter {
	return &Limiter{max: max, window: window, cap: capacity, now: time.Now,
		entries: map[string]*list.Element{}, order: list.New()}
}

// Take checks and counts an attempt in one step: it returns 0 and counts the
// attempt when key is under the limit, else how long to wait (and counts
// nothing). Checking and counting separately would let a burst of
// concurrent attempts all pass the check before any is counted.
func (l *Limiter) Take(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.current(key)
	if e != nil && e.count >= l.max {
		return e.start.Add(l.window).Sub(l.now())
	}
	if e != nil {
		e.count++
		return 0
	}
	for l.order.Len() >= l.cap {
		old := l.order.Remove(l.order.Front()).(*entry)
		delete(l.entries, old.key)
	}
	l.entries[key] = l.order.PushBack(&entry{key: key, start: l.now(), count: 1})
	return 0
}

// Refund takes back one counted attempt (a Take that turned out fine).
func (l *Limiter) Refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.current(key); e != nil && e.count > 0 {
		e.count--
	}
}

// AddressKey is the rate-limit key of a client address: an IPv6 address
// counts by its /64, which one client usually holds whole.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// Reset forgets key (after a successful sign-in).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[key]; ok {
		l.order.Remove(el)
		delete(l.entries, key)
	}
}

// current returns key's live window, dropping an expired one.
func (l *Limiter) current(key string) *entry {
	el, ok := l.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if l.now().Sub(e.start) >= l.window {
		l.order.Remove(el)
		delete(l.entries, key)
		return nil
	}
	return e
}
