// Package totp is RFC 6238 time-based one-time passwords (RFC 4226's HOTP
// over a time step), with the standard library only. Authenticator apps use
// HMAC-SHA1, 6 digits and 30-second steps (Default); SHA-256, SHA-512 and 8
// digits are here so that the RFC's Appendix B vectors can be checked as
// published. It knows nothing of accounts or storage: Verify says which step
// a code matched, and the caller keeps the last step used so that a code is
// never accepted twice.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
)

// Algorithm is the HMAC hash of a Params.
type Algorithm string

// The algorithms RFC 6238 names.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Params are a TOTP's shape.
type Params struct {
	Algorithm Algorithm
	Digits    int           // 6 or 8
	Period    time.Duration // the time step (RFC 6238's X)
}

// Default is what every authenticator app understands.
var Default = Params{Algorithm: SHA1, Digits: 6, Period: 30 * time.Second}

// SecretSize is the length of a new secret: 160 bits, RFC 4226's recommended
// size and HMAC-SHA1's block-free key length.
const SecretSize = 20

// Skew is how many steps either side of the current one Verify accepts: a
// phone's clock a little off, or a code typed as it changes.
const Skew = 1

// NewSecret is a fresh random secret.
func NewSecret() []byte {
	b := make([]byte, SecretSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// b32 is the encoding authenticator apps take: RFC 4648 base32, no padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSecret is the secret as people type it into an app.
func EncodeSecret(secret []byte) string { return b32.EncodeToString(secret) }

func (p Params) newHash() (func() hash.Hash, error) {
	switch p.Algorithm {
	case SHA1, "":
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("totp: unknown algorithm %q", p.Algorithm)
}

func (p Params) period() time.Duration {
	if p.Period <= 0 {
		return Default.Period
	}
	return p.Period
}

func (p Params) digits() int {
	if p.Digits != 8 {
		return 6
	}
	return 8
}

// Step is the time step t falls in (RFC 6238's T).
func (p Params) Step(t time.Time) int64 {
	return t.Unix() / int64(p.period()/time.Second)
}

// At is the code of step (RFC 4226 section 5.3's dynamic truncation).
func (p Params) At(secret []byte, step int64) (string, error) {
	h, err := p.newHash()
	if err != nil {
		return "", err
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(h, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1_000_000)
	if p.digits() == 8 {
		mod = 100_000_000
	}
	return fmt.Sprintf("%0*d", p.digits(), bin%mod), nil
}

// Now is the code at t.
func (p Params) Now(secret []byte, t time.Time) (string, error) { return p.At(secret, p.Step(t)) }

// ErrInvalid refuses a code: wrong, malformed, outside the window, or of a
// step at or before the last one used.
var ErrInvalid = errors.New("totp: invalid code")

// Normalize reads a code as people type it: spaces and hyphens (as some apps
// group the digits) are dropped; what remains must be exactly the params'
// number of ASCII digits. The input is bounded before any work.
func (p Params) Normalize(code string) (string, bool) {
	if len(code) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, r := range code {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != p.digits() {
		return "", false
	}
	return b.String(), true
}

// Verify checks code at time t, accepting Skew steps either side, and only
// steps after lastStep (the last step this secret accepted; -1 or less when
// none): a code seen once, by its owner or by someone looking over their
// shoulder, is refused for the rest of its window. It returns the step that
// matched, for the caller to keep as the new lastStep. The comparison is in
// constant time for each candidate step.
func (p Params) Verify(secret []byte, code string, t time.Time, lastStep int64) (int64, error) {
	code, ok := p.Normalize(code)
	if !ok {
		return 0, ErrInvalid
	}
	now := p.Step(t)
	matched := int64(-1)
	for step := now - Skew; step <= now+Skew; step++ {
		want, err := p.At(secret, step)
		if err != nil {
			return 0, err
		}
		if hmac.Equal([]byte(want), []byte(code)) && step > lastStep && matched < 0 {
			matched = step
		}
	}
	if matched < 0 {
		return 0, ErrInvalid
	}
	return matched, nil
}

// URI is the otpauth:// URI authenticator apps read from a QR code (Google
// Authenticator's Key Uri Format): label "issuer:account", the secret in
// base32, and the issuer again as a parameter. Default parameters are left
// out, as apps expect.
func (p Params) URI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{}
	q.Set("secret", EncodeSecret(secret))
	q.Set("issuer", issuer)
	if p.Algorithm != "" && p.Algorithm != SHA1 {
		q.Set("algorithm", string(p.Algorithm))
	}
	if p.digits() != 6 {
		q.Set("digits", "8")
	}
	if p.period() != Default.Period {
		q.Set("period", fmt.Sprint(int64(p.period()/time.Second)))
	}
	return "otpauth://totp/" + label + "?" + q.Encode()
}
