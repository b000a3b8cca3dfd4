// Package httpsig signs and verifies HTTP requests between fediverse servers,
// in both generations peers use: draft-cavage-http-signatures-12 (what
// Mastodon, Akkoma, GoToSocial and Misskey send) and RFC 9421 HTTP Message
// Signatures (what Mastodon 4.5 and Fedify accept). It is the one place
// Rampart's signature rules live; it does no I/O: finding the key, reading
// the body and remembering replays belong to the caller.
//
// Verifying is three steps, so that nothing is fetched for a request that
// fails the rules: Parse reads the signature and builds the string it
// signs; Check applies Rampart's rules (what must be covered, the time
// window); Verify checks the bytes against the signer's key, and VerifyBody
// the signed digest against the body.
package httpsig

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Generation is the signature scheme a request used.
type Generation int

const (
	// Cavage is draft-cavage-http-signatures-12: the Signature header.
	Cavage Generation = iota + 1
	// RFC9421 is HTTP Message Signatures: Signature-Input and Signature.
	RFC9421
)

func (g Generation) String() string {
	switch g {
	case Cavage:
		return "draft-cavage-12"
	case RFC9421:
		return "RFC 9421"
	}
	return "none"
}

// The time window, as Mastodon applies it: a signature is good for 12 hours
// after it was made, and may claim a time up to an hour ahead of our clock.
const (
	MaxAge  = 12 * time.Hour
	MaxSkew = time.Hour
)

// MinRSABits is the smallest RSA key accepted from a peer.
const MinRSABits = 2048

// Bounds on what a request can make a verifier hold or compute.
const (
	maxHeaderLength  = 8 << 10
	maxCovered       = 32
	maxSignatureSize = 1024 // an RSA-8192 signature
	// maxSigningString bounds what a signature may cover: peers sign a
	// handful of short headers, far below it.
	maxSigningString = 16 << 10
)

// Error is a refused signature. Its message names the rule, never a key or
// a secret, so it may be shown to the peer.
type Error struct{ Reason string }

func (e *Error) Error() string { return "http signature: " + e.Reason }

func refuse(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Signature is a request's parsed signature.
type Signature struct {
	Generation Generation
	KeyID      string
	// Algorithm as the request declared it ("" when it did not).
	Algorithm string
	// Created is when the signer says it signed: (created)/created, or the
	// signed Date header.
	Created time.Time
	// Expires is the signer's own expiry (zero when none).
	Expires time.Time
	// Covered lists the covered components, lower case, in order.
	Covered []string
	// Value is the signature's bytes: the key a replay cache remembers.
	Value []byte

	method string
	header http.Header
	// bases are the strings the signature may be over: cavage's
	// (request-target) with the query, then without it, which peers that
	// sign the path alone send.
	bases [][]byte
}

// Signed reports whether r carries a signature of either generation.
func Signed(r *http.Request) bool {
	if r.Header.Get("Signature-Input") != "" || r.Header.Get("Signature") != "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	return len(auth) > 10 && strings.EqualFold(auth[:10], "Signature ")
}

// Parse reads the signature of r: RFC 9421's when the request has
// Signature-Input, else draft-cavage's Signature header (or Authorization:
// Signature). scheme is how the request reached the instance ("https"
// behind the proxy), for RFC 9421's @target-uri and @scheme. Parse checks
// only the form; Check applies the rules.
func Parse(r *http.Request, scheme string) (*Signature, error) {
	if r.Header.Get("Signature-Input") != "" {
		return parseRFC9421(r, scheme)
	}
	v := r.Header.Get("Signature")
	if v == "" {
		if auth := r.Header.Get("Authorization"); len(auth) > 10 && strings.EqualFold(auth[:10], "Signature ") {
			v = auth[10:]
		}
	}
	if v == "" {
		return nil, refuse("the request is not signed")
	}
	return parseCavage(r, v)
}

// Check applies Rampart's rules, Mastodon's: the signature was made within
// MaxAge and not more than MaxSkew ahead of now, has not expired, and covers
// enough of the request. Draft-cavage: date or (created); (request-target)
// and host; digest on a request with a body.
// RFC 9421: @method and @target-uri, content-digest on a request with a
// body.
func (s *Signature) Check(now time.Time) error {
	hasBody := s.method != http.MethodGet && s.method != http.MethodHead
	switch s.Generation {
	case Cavage:
		if !s.covers("date") && !s.covers("(created)") {
			return refuse("neither date nor (created) is signed")
		}
		// (request-target) and host bind the signature to this request on
		// this server: without them a signature over date and digest holds
		// for any path, and a delivery signed for another server could be
		// replayed here (found in review). Every peer signs both.
		if !s.covers("(request-target)") {
			return refuse("(request-target) is not signed")
		}
		if !s.covers("host") {
			return refuse("host is not signed")
		}
		if hasBody && !s.covers("digest") {
			return refuse("digest is not signed")
		}
	case RFC9421:
		if !s.covers("@method") || !s.covers("@target-uri") {
			return refuse("@method and @target-uri must be signed")
		}
		if hasBody && !s.covers("content-digest") {
			return refuse("content-digest is not signed")
		}
	}
	if s.Created.IsZero() {
		return refuse("no signing time")
	}
	if now.Sub(s.Created) > MaxAge {
		return refuse("signed more than %s ago", MaxAge)
	}
	if s.Created.Sub(now) > MaxSkew {
		return refuse("signed in the future")
	}
	if !s.Expires.IsZero() && !now.Before(s.Expires) {
		return refuse("expired")
	}
	return nil
}

func (s *Signature) covers(name string) bool { return slices.Contains(s.Covered, name) }

// Verify checks the signature against the signer's public key: an RSA key
// of at least MinRSABits (PKCS #1 v1.5 with SHA-256) or an Ed25519 key.
func (s *Signature) Verify(pub crypto.PublicKey) error {
	return s.verify(pub, MinRSABits)
}

func (s *Signature) verify(pub crypto.PublicKey, minRSABits int) error {
	if err := s.algorithmFits(pub); err != nil {
		return err
	}
	for _, base := range s.bases {
		switch k := pub.(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() < minRSABits {
				return refuse("RSA key shorter than %d bits", minRSABits)
			}
			sum := sha256.Sum256(base)
			if rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], s.Value) == nil {
				return nil
			}
		case ed25519.PublicKey:
			if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, base, s.Value) {
				return nil
			}
		default:
			return refuse("unsupported key type %T", pub)
		}
	}
	return refuse("the signature does not match")
}

// algorithmFits refuses a declared algorithm that the key cannot be used
// with, so that a signer cannot pick how its key is read.
func (s *Signature) algorithmFits(pub crypto.PublicKey) error {
	_, isRSA := pub.(*rsa.PublicKey)
	_, isEd := pub.(ed25519.PublicKey)
	var ok bool
	switch s.Algorithm {
	case "":
		ok = isRSA || isEd
	case "rsa-sha256", "rsa-v1_5-sha256":
		ok = isRSA
	case "hs2019": // draft-cavage: the key decides
		ok = isRSA || isEd
	case "ed25519":
		ok = isEd
	}
	if !ok {
		return refuse("algorithm %q does not fit the key", s.Algorithm)
	}
	return nil
}

// VerifyBody checks the signed digest header against the request's body:
// Digest's SHA-256 (draft-cavage) or Content-Digest's sha-256 or sha-512
// (RFC 9530). A request without a body needs no digest.
func (s *Signature) VerifyBody(body []byte) error {
	switch {
	case s.covers("content-digest"):
		return checkContentDigest(s.header.Values("Content-Digest"), body)
	case s.covers("digest"):
		return checkDigest(s.header.Values("Digest"), body)
	case len(body) == 0:
		return nil
	}
	return refuse("the body is not covered by the signature")
}

// checkDigest reads Digest (RFC 3230) and recomputes its SHA-256: the only
// algorithm Mastodon accepts, and a weaker one is no guarantee.
func checkDigest(values []string, body []byte) error {
	var found bool
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			alg, enc, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || !strings.EqualFold(alg, "SHA-256") {
				continue
			}
			found = true
			want, err := base64.StdEncoding.DecodeString(enc)
			sum := sha256.Sum256(body)
			if err != nil || subtle.ConstantTimeCompare(want, sum[:]) != 1 {
				return refuse("the digest does not match the body")
			}
		}
	}
	if !found {
		return refuse("no SHA-256 digest")
	}
	return nil
}

// checkContentDigest reads Content-Digest (RFC 9530): a dictionary of
// algorithm to byte sequence; sha-256 and sha-512 are recomputed, every one
// present must match, and at least one must be present.
func checkContentDigest(values []string, body []byte) error {
	members, err := parseDictionary(strings.Join(values, ", "))
	if err != nil {
		return refuse("malformed Content-Digest")
	}
	var found bool
	for _, m := range members {
		var sum []byte
		switch m.name {
		case "sha-256":
			s := sha256.Sum256(body)
			sum = s[:]
		case "sha-512":
			s := sha512.Sum512(body)
			sum = s[:]
		default:
			continue
		}
		found = true
		if m.isList || m.item.kind != sfBytes || subtle.ConstantTimeCompare(m.item.bytes, sum) != 1 {
			return refuse("the content digest does not match the body")
		}
	}
	if !found {
		return refuse("no sha-256 or sha-512 content digest")
	}
	return nil
}

// headerValue is a field's value in a signing string: its lines trimmed and
// joined with ", " (both generations). Host lives in r.Host on a server.
func headerValue(r *http.Request, name string) (string, bool) {
	if name == "host" {
		return r.Host, r.Host != ""
	}
	vals := r.Header.Values(name)
	if len(vals) == 0 {
		return "", false
	}
	trimmed := make([]string, len(vals))
	for i, v := range vals {
		trimmed[i] = strings.TrimSpace(v)
	}
	return strings.Join(trimmed, ", "), true
}

func decodeSignature(enc string) ([]byte, error) {
	// Strict: one encoding per value, so that no byte of a header can
	// change without changing what it says.
	b, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, refuse("the signature is not base64")
	}
	if len(b) == 0 || len(b) > maxSignatureSize {
		return nil, refuse("the signature has an impossible length")
	}
	return b, nil
}

func unixTime(n int64) (time.Time, error) {
	// Beyond year 9999 or before 1970, no honest signer.
	if n < 0 || n > 253402300799 {
		return time.Time{}, refuse("impossible time %s", strconv.FormatInt(n, 10))
	}
	return time.Unix(n, 0), nil
}
