// Package ratelimit counts failures per key (a client address, a login, a
// login on a network, a device) in a fixed window and says how long a key must
// wait. Shared (shared.go) keeps the counts in the database, for limits every
// process serving one database must count together; Limiter keeps them in
// this process's memory, bounded by a constant whatever the keys are:
//
//   - A key is never stored. It is kept as a 16-byte keyed digest
//     (HMAC-SHA256 under a random key of this limiter, truncated), so a
//     megabyte-long key costs what a short one does, and nobody who does not
//     know the key can make two keys collide on purpose.
//   - Windows end by time: every call first drops the windows that have ended,
//     oldest first, so an entry goes when its window does, whether or not its
//     key is ever seen again.
//   - At most capacity keys are held. When full, the oldest window is
//     forgotten first, so a flood of distinct keys cannot grow memory.
package ratelimit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"net/netip"
	"sync"
	"time"
)

// digest is what a key is held as.
type digest [16]byte

// Limiter allows max failures per key per window.
type Limiter struct {
	max    int
	window time.Duration
	cap    int
	secret [32]byte // keys the digests; random per limiter, never leaves it
	epoch  time.Time
	now    func() time.Time

	mu      sync.Mutex
	entries map[digest]entry
	// order holds one item per window started, oldest first (windows start
	// in time order, so the front is always the next to end). An item whose
	// key was reset or restarted since (another generation) is stale and
	// skipped; there are never more than cap items, so entries never exceed
	// cap either.
	order ring
	gen   uint32 // of the last window started; the ring spans far fewer than 2³² of them
}

type entry struct {
	start time.Duration // since epoch
	count int32
	gen   uint32
}

type item struct {
	key digest
	gen uint32
}

// New returns a limiter allowing attempts failures per key per window and
// holding at most capacity keys.
func New(attempts int, window time.Duration, capacity int) *Limiter {
	return NewWithClock(attempts, window, capacity, time.Now)
}

// NewWithClock is New reading the time from now (a service's own clock).
func NewWithClock(attempts int, window time.Duration, capacity int, now func() time.Time) *Limiter {
	l := &Limiter{max: attempts, window: window, cap: max(capacity, 1), epoch: now(), now: now,
		entries: map[digest]entry{}}
	rand.Read(l.secret[:]) // never fails (crypto/rand aborts the process rather than return an error)
	return l
}

// Take checks and counts an attempt in one step: it returns 0 and counts the
// attempt when the key is under the limit, else how long to wait (and counts
// nothing). Checking and counting separately would let a burst of concurrent
// attempts all pass the check before any is counted. A key is the sequence of
// its parts: ("a", "bc") and ("ab", "c") are different keys.
func (l *Limiter) Take(key ...string) time.Duration {
	_, wait := l.TakeQuota(key...)
	return wait
}

// TakeQuota is Take that also returns what is left of the key's allowance.
func (l *Limiter) TakeQuota(key ...string) (Quota, time.Duration) {
	d := l.digest(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	l.sweep(now)
	if e, ok := l.entries[d]; ok { // live: sweep has dropped every ended window
		q := Quota{Limit: l.max, Reset: l.epoch.Add(e.start + l.window)}
		if int(e.count) >= l.max {
			return q, e.start + l.window - now
		}
		e.count++
		l.entries[d] = e
		q.Remaining = l.max - int(e.count)
		return q, 0
	}
	if l.order.n >= l.cap {
		// Full: the oldest window goes (after sweep, the front item is live).
		delete(l.entries, l.order.pop().key)
	}
	l.gen++
	l.entries[d] = entry{start: now, count: 1, gen: l.gen}
	l.order.push(item{key: d, gen: l.gen}, l.cap)
	return Quota{Limit: l.max, Remaining: l.max - 1, Reset: l.epoch.Add(now + l.window)}, 0
}

// Refund takes back one counted attempt (a Take that turned out fine).
func (l *Limiter) Refund(key ...string) {
	d := l.digest(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(l.clock())
	if e, ok := l.entries[d]; ok && e.count > 0 {
		e.count--
		l.entries[d] = e
	}
}

// Reset forgets a key.
func (l *Limiter) Reset(key ...string) {
	d := l.digest(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, d) // its item in order is stale now
	l.sweep(l.clock())
}

// Len is how many keys the limiter holds (windows that have not ended).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(l.clock())
	return len(l.entries)
}

// sweep drops, oldest first, every window that has ended and every stale
// item in front of the first live one.
func (l *Limiter) sweep(now time.Duration) {
	for l.order.n > 0 {
		it := l.order.front()
		e, ok := l.entries[it.key]
		live := ok && e.gen == it.gen
		if live && now-e.start < l.window {
			return
		}
		if live {
			delete(l.entries, it.key)
		}
		l.order.pop()
	}
}

func (l *Limiter) clock() time.Duration { return l.now().Sub(l.epoch) }

func (l *Limiter) digest(parts []string) digest { return keyDigest(l.secret[:], parts) }

// keyDigest is HMAC-SHA256 under secret of a key's parts, each preceded by
// its length (so ("a", "bc") and ("ab", "c") differ), truncated to 16 bytes.
func keyDigest(secret []byte, parts []string) digest {
	m := hmac.New(sha256.New, secret)
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		writeString(m, p)
	}
	var d digest
	copy(d[:], m.Sum(nil))
	return d
}

// writeString feeds s to h through a small buffer, so a huge key is hashed
// without a copy of its size.
func writeString(h hash.Hash, s string) {
	var buf [512]byte
	for len(s) > 0 {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
}

// ring is a FIFO of items that grows (doubling) up to the limiter's capacity.
type ring struct {
	buf     []item
	head, n int
}

func (r *ring) front() item { return r.buf[r.head] }

func (r *ring) pop() item {
	it := r.buf[r.head]
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return it
}

func (r *ring) push(it item, limit int) {
	if r.n == len(r.buf) {
		grown := make([]item, min(max(2*len(r.buf), 16), limit))
		for i := 0; i < r.n; i++ {
			grown[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = grown, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = it
	r.n++
}

// AddressKey is the rate-limit key of a client address: an IPv4 address is
// itself, an IPv6 address counts by its /64, which one client usually holds
// whole (an IPv4-mapped address counts as IPv4). Anything that is not an
// address is its own key.
func AddressKey(ip string) string { return prefixKey(ip, 32) }

// NetworkKey is the key of the network a client address belongs to: its
// IPv4 /24 or its IPv6 /64.
func NetworkKey(ip string) string { return prefixKey(ip, 24) }

// prefixKey keys ip by its IPv4 /v4Bits or IPv6 /64; a whole IPv4 address
// is written bare.
func prefixKey(ip string, v4Bits int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() && v4Bits == 32 {
		return a.String()
	}
	bits := 64
	if a.Is4() {
		bits = v4Bits
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// WaitError is an attempt refused by a limiter: it names how long to wait.
// Services return it, and the HTTP side answers 429 with Retry-After.
type WaitError struct {
	What       string // what was limited, for the message: "failed sign-in attempts", "sign-ups"
	RetryAfter time.Duration
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("too many %s; try again in %d s", e.What, e.Seconds())
}

// Seconds is the wait rounded up to whole seconds (at least 1).
func (e *WaitError) Seconds() int {
	s := int((e.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}
