// Package password hashes and checks account passwords with argon2id,
// stored as PHC strings so parameters can change: a hash made with older
// parameters still verifies and is flagged for rehashing.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Default follows OWASP's argon2id recommendation (m=19 MiB, t=2, p=1).
var Default = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMismatch means the password is wrong.
var ErrMismatch = errors.New("password does not match")

// Hasher bounds how many hashes run at once: each takes MemoryKiB of RAM,
// and a flood of sign-in attempts must not exhaust memory.
type Hasher struct {
	params Params
	slots  chan struct{}
	work   atomic.Uint64 // see Work
}

// NewHasher allows at most concurrent hashes at a time.
func NewHasher(p Params, concurrent int) *Hasher {
	return &Hasher{params: p, slots: make(chan struct{}, max(concurrent, 1))}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting to hash a password: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// derive runs argon2id and counts its cost in Work.
func (h *Hasher) derive(pw string, salt []byte, p Params, keyLen uint32) []byte {
	h.work.Add(uint64(p.MemoryKiB) * uint64(p.Time))
	return argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
}

// Work is the argon2id work this hasher has done: the sum, over every
// derivation, of its memory (KiB) times its passes. It lets a test prove that
// a sign-in for a login that does not exist costs what one that does costs,
// without timing anything.
func (h *Hasher) Work() uint64 { return h.work.Load() }

// Hash returns the PHC string of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	p := h.params
	key := h.derive(pw, salt, p, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var b64 = base64.RawStdEncoding

// Verify checks pw against a PHC hash in constant time. needsRehash is true
// when the hash was made with other parameters than the hasher's.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (needsRehash bool, err error) {
	p, salt, want, err := parse(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := h.derive(pw, salt, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, ErrMismatch
	}
	return p != h.params, nil
}

// Burn spends the same work as a Verify, so a sign-in for an account that
// does not exist takes as long as one that does.
func (h *Hasher) Burn(ctx context.Context, pw string) {
	if err := h.acquire(ctx); err != nil {
		return
	}
	defer h.release()
	h.derive(pw, make([]byte, saltLen), h.params, keyLen)
}

func parse(encoded string) (Params, []byte, []byte, error) {
	bad := func(what string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("stored password hash is malformed (%s)", what)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not argon2id")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return bad("version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil ||
		p.MemoryKiB < 8*1024 || p.MemoryKiB > 4*1024*1024 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return bad("parameters")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return bad("key")
	}
	return p, salt, key, nil
}
