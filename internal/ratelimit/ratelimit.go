// Package ratelimit counts failures per key (a client address, an account
// name) in a fixed window and says how long a key must wait. It is bounded:
// when full it forgets the oldest windows first, so a flood of distinct keys
// cannot grow memory without limit.
package ratelimit

import (
	"container/list"
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

// Wait reports how long key must wait before another attempt (0: go ahead).
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.current(key)
	if e == nil || e.count < l.max {
		return 0
	}
	return e.start.Add(l.window).Sub(l.now())
}

// Fail records a failed attempt for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.current(key); e != nil {
		e.count++
		return
	}
	for l.order.Len() >= l.cap {
		old := l.order.Remove(l.order.Front()).(*entry)
		delete(l.entries, old.key)
	}
	l.entries[key] = l.order.PushBack(&entry{key: key, start: l.now(), count: 1})
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
