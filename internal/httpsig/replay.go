package httpsig

import (
	"crypto/sha256"
	"sync"
	"time"
)

// ReplayCache remembers the signatures of accepted requests until they
// expire, so that a POST captured on the way cannot be sent again while its
// signature is still within the window. It holds at most a fixed number of
// entries (a 32-byte digest and a time each); when full, the oldest goes
// first, which only matters to a replay older than the last `max` accepted
// requests.
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
	// Drop the expired and, past the bound, the oldest.
	for len(c.order) > 0 {
		oldest := c.order[0]
		if exp, ok := c.seen[oldest]; ok && now.Before(exp) && len(c.seen) < c.max {
			break
		}
		delete(c.seen, oldest)
		c.order = c.order[1:]
	}
	c.seen[key] = until
	c.order = append(c.order, key)
	return false
}

// Len is how many signatures the cache holds.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
