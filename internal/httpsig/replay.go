package httpsig

import (
	"crypto/sha256"
	"sync"
	"time"
)

// ReplayCache remembers the signatures of accepted requests until they
// expire, so that a POST captured on the way cannot be sent again while its
// signature is still within the window. It holds at most a fixed number of
// entries (a 32-byte digest and a time each). Only expired entries are ever
// dropped: when it is full of live ones, Seen refuses new signatures (as
// replays) until some expire, rather than forget one that could then be
// replayed. Anyone with a key could otherwise flush it at will.
type ReplayCache struct {
	mu    sync.Mutex
	max   int
	seen  map[[32]byte]time.Time
	order [][32]byte // insertion order, oldest first
}

// NewReplayCache holds up to max signatures.
func NewReplayCache(max int) *ReplayCache {
	return &ReplayCache{max: max, seen: make(map[[32]byte]time.Time, max)}
}

// Seen records s and reports whether it had been recorded already: a replay.
// Call it after the signature verified, so that forged requests cannot fill
// the cache.
func (c *ReplayCache) Seen(s *Signature, now time.Time) bool {
	key := sha256.Sum256(s.Value)
	until := s.Created.Add(MaxAge + MaxSkew)
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[key]; ok && now.Before(exp) {
		return true
	}
	// Drop expired entries from the front (the oldest first).
	for len(c.order) > 0 {
		oldest := c.order[0]
		if exp, ok := c.seen[oldest]; ok && now.Before(exp) {
			break
		}
		delete(c.seen, oldest)
		c.order = c.order[1:]
	}
	if len(c.seen) >= c.max {
		c.sweep(now)
		if len(c.seen) >= c.max {
			return true // full of live signatures: fail closed
		}
	}
	c.seen[key] = until
	c.order = append(c.order, key)
	return false
}

// sweep drops every expired entry, wherever it is in the order (entries
// expire out of order when their signing times differ).
func (c *ReplayCache) sweep(now time.Time) {
	kept := c.order[:0]
	for _, k := range c.order {
		if exp, ok := c.seen[k]; ok && now.Before(exp) {
			kept = append(kept, k)
		} else {
			delete(c.seen, k)
		}
	}
	c.order = kept
}

// Len is how many signatures the cache holds.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
