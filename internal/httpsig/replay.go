package httpsig

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"
)

// ReplayCache remembers the signatures of accepted requests until they
// expire, so that a POST captured on the way cannot be sent again while its
// signature is still within the window. It holds at most a fixed number of
// entries (a 32-byte digest, a time and the signer's host each). Only
// expired entries are ever dropped: when it is full of live ones, Seen
// refuses new signatures (as replays) until some expire, rather than forget
// one that could then be replayed. Anyone with a key could otherwise flush
// it at will.
//
// One signer's host may hold at most a tenth of it: a server with a valid
// key could otherwise fill it with its own deliveries and have everyone
// else's refused for the whole window (found in review). Past its share, a
// host's new signatures are refused and the others' still taken.
type ReplayCache struct {
	mu      sync.Mutex
	max     int
	perHost int
	seen    map[[32]byte]replayEntry
	order   [][32]byte // insertion order, oldest first
	hosts   map[string]int
}

type replayEntry struct {
	until time.Time
	host  string
}

// NewReplayCache holds up to size signatures, size/10 (at least 1) per host.
func NewReplayCache(size int) *ReplayCache {
	return &ReplayCache{max: size, perHost: max(size/10, 1), seen: make(map[[32]byte]replayEntry, size), hosts: map[string]int{}}
}

// Seen records s, made by a signer on host, and reports whether it had been
// recorded already (a replay), or cannot be recorded (the cache or the
// host's share is full of live signatures). Call it after the signature
// verified, so that forged requests cannot fill the cache.
func (c *ReplayCache) Seen(s *Signature, host string, now time.Time) bool {
	key := sha256.Sum256(s.Value)
	host = strings.ToLower(host)
	until := s.Created.Add(MaxAge + MaxSkew)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.seen[key]; ok && now.Before(e.until) {
		return true
	}
	// Drop expired entries from the front (the oldest first).
	for len(c.order) > 0 {
		oldest := c.order[0]
		if e, ok := c.seen[oldest]; ok && now.Before(e.until) {
			break
		}
		c.drop(oldest)
		c.order = c.order[1:]
	}
	if len(c.seen) >= c.max || c.hosts[host] >= c.perHost {
		c.sweep(now)
		if len(c.seen) >= c.max || c.hosts[host] >= c.perHost {
			return true // full of live signatures: fail closed
		}
	}
	if _, ok := c.seen[key]; ok {
		c.drop(key) // expired, but still in the order: counted once
		c.order = removeKey(c.order, key)
	}
	c.seen[key] = replayEntry{until: until, host: host}
	c.hosts[host]++
	c.order = append(c.order, key)
	return false
}

// drop forgets one entry and its count.
func (c *ReplayCache) drop(key [32]byte) {
	e, ok := c.seen[key]
	if !ok {
		return
	}
	delete(c.seen, key)
	if c.hosts[e.host]--; c.hosts[e.host] <= 0 {
		delete(c.hosts, e.host)
	}
}

func removeKey(order [][32]byte, key [32]byte) [][32]byte {
	for i, k := range order {
		if k == key {
			return append(order[:i], order[i+1:]...)
		}
	}
	return order
}

// sweep drops every expired entry, wherever it is in the order (entries
// expire out of order when their signing times differ).
func (c *ReplayCache) sweep(now time.Time) {
	kept := c.order[:0]
	for _, k := range c.order {
		if e, ok := c.seen[k]; ok && now.Before(e.until) {
			kept = append(kept, k)
		} else {
			c.drop(k)
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
