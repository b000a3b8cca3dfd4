// Package id makes the 64-bit, time-ordered ids every entity carries
// (Snowflake-like, as Mastodon clients expect): milliseconds since the Unix
// epoch in the high 48 bits, then the process's worker number (5 bits),
// then a sequence (11 bits). Rendered in the API as decimal strings, they
// sort by (length, lexical) as clients assume.
package id

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"time"
)

// Workers is how many processes can make ids at once: each holds a worker
// number of its own (leased in the database, see store.ClaimIDWorker), so
// two processes never make the same id.
const Workers = 1 << workerBits

const (
	workerBits = 5
	seqBits    = 11
	seqMask    = 1<<seqBits - 1
)

// Generator hands out increasing ids for one worker number.
type Generator struct {
	mu     sync.Mutex
	lastMs int64
	seq    uint16
	worker int64
	now    func() time.Time
}

// NewGenerator returns a generator on the wall clock, as worker 0 until
// SetWorker says otherwise.
func NewGenerator() *Generator { return &Generator{now: time.Now} }

// SetWorker makes the ids from now on worker n's (0 ≤ n < Workers). The
// next id is of a later millisecond, so ids stay increasing whatever the
// numbers.
func (g *Generator) SetWorker(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.worker = int64(n) & (Workers - 1)
	g.lastMs++
	g.seq = seqMask // the next Next moves past lastMs
}

// Next returns a fresh id, strictly greater than the previous one.
func (g *Generator) Next() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.now().UnixMilli()
	if ms <= g.lastMs {
		ms = g.lastMs
		if g.seq == seqMask { // 2048 ids in one millisecond: borrow the next one
			ms++
			g.seq = 0
		} else {
			g.seq++
		}
	} else {
		// A random start within the millisecond: ids do not count how many
		// were made before them in it.
		var b [2]byte
		_, _ = rand.Read(b[:])
		g.seq = binary.BigEndian.Uint16(b[:]) & (seqMask >> 1) // room to count up within the ms
	}
	g.lastMs = ms
	return ms<<16 | g.worker<<seqBits | int64(g.seq)
}

// Time is when an id was made.
func Time(id int64) time.Time { return time.UnixMilli(id >> 16).UTC() }

// At is an id of instant t with a random sequence, for something made
// elsewhere at t (a remote status): it sorts by when it was made, as
// Mastodon's ids for remote statuses do. Two made for one millisecond may
// collide; the store's primary key catches that, and the caller takes the
// next id.
func At(t time.Time) int64 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return t.UnixMilli()<<16 | int64(binary.BigEndian.Uint16(b[:])&0x7fff)
}

// Floor is the smallest id of instant t, for time-based cursors.
func Floor(t time.Time) int64 { return t.UnixMilli() << 16 }

// Secret returns 32 random bytes, base64url-encoded (43 characters): the
// shape of every bearer secret Rampart hands out (session ids, OAuth client
// ids and secrets, codes, tokens, generated keys). crypto/rand.Read cannot
// fail since Go 1.24: it crashes the program rather than return weak bytes.
func Secret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
