package totp

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestRFC6238AppendixB checks every published vector: 8 digits, 30-second
// steps, the three hashes with the RFC's seeds.
func TestRFC6238AppendixB(t *testing.T) {
	seeds := map[Algorithm][]byte{
		SHA1:   []byte("12345678901234567890"),
		SHA256: []byte("12345678901234567890123456789012"),
		SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	vectors := []struct {
		unix  int64
		codes map[Algorithm]string
	}{
		{59, map[Algorithm]string{SHA1: "94287082", SHA256: "46119246", SHA512: "90693936"}},
		{1111111109, map[Algorithm]string{SHA1: "07081804", SHA256: "68084774", SHA512: "25091201"}},
		{1111111111, map[Algorithm]string{SHA1: "14050471", SHA256: "67062674", SHA512: "99943326"}},
		{1234567890, map[Algorithm]string{SHA1: "89005924", SHA256: "91819424", SHA512: "93441116"}},
		{2000000000, map[Algorithm]string{SHA1: "69279037", SHA256: "90698825", SHA512: "38618901"}},
		{20000000000, map[Algorithm]string{SHA1: "65353130", SHA256: "77737706", SHA512: "47863826"}},
	}
	for _, v := range vectors {
		for alg, want := range v.codes {
			p := Params{Algorithm: alg, Digits: 8, Period: 30 * time.Second}
			got, err := p.Now(seeds[alg], time.Unix(v.unix, 0))
			if err != nil || got != want {
				t.Errorf("%s at %d: %q %v, want %q", alg, v.unix, got, err, want)
			}
			if _, err := p.Verify(seeds[alg], want, time.Unix(v.unix, 0), -1); err != nil {
				t.Errorf("%s at %d: Verify refuses the vector: %v", alg, v.unix, err)
			}
		}
	}
	// The 6-digit code apps show is the last six digits of the same value.
	got, _ := Default.Now(seeds[SHA1], time.Unix(59, 0))
	if got != "287082" {
		t.Errorf("6 digits at 59: %q, want 287082", got)
	}
}

// A code accepted once is refused for the rest of its window, and so is any
// code of an earlier step; a later step's code still passes.
func TestReuseWithinTheWindowIsRefused(t *testing.T) {
	secret := NewSecret()
	now := time.Unix(1_700_000_000, 0)
	code, _ := Default.Now(secret, now)
	step, err := Default.Verify(secret, code, now, -1)
	if err != nil || step != Default.Step(now) {
		t.Fatalf("first use: step %d %v", step, err)
	}
	if _, err := Default.Verify(secret, code, now.Add(10*time.Second), step); !errors.Is(err, ErrInvalid) {
		t.Errorf("the same code again: %v, want ErrInvalid", err)
	}
	prev, _ := Default.At(secret, step-1)
	if _, err := Default.Verify(secret, prev, now, step); !errors.Is(err, ErrInvalid) {
		t.Errorf("the previous step's code after this one: %v", err)
	}
	next := now.Add(30 * time.Second)
	code2, _ := Default.Now(secret, next)
	if s, err := Default.Verify(secret, code2, next, step); err != nil || s != step+1 {
		t.Errorf("the next step's code: step %d %v", s, err)
	}
}

// One step of clock skew either side is accepted; two are not.
func TestSkewOfOneStepAcceptedTwoRefused(t *testing.T) {
	secret := NewSecret()
	now := time.Unix(1_700_000_015, 0)
	for offset, ok := range map[int64]bool{-2: false, -1: true, 0: true, 1: true, 2: false} {
		code, _ := Default.At(secret, Default.Step(now)+offset)
		_, err := Default.Verify(secret, code, now, -1)
		if (err == nil) != ok {
			t.Errorf("a code %d steps off: err %v, want accepted=%v", offset, err, ok)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"123456": "123456", " 123 456 ": "123456", "123-456": "123456",
		"12345": "", "1234567": "", "12345a": "", "١٢٣٤٥٦": "", strings.Repeat(" ", 40) + "123456": ""} {
		got, ok := Default.Normalize(in)
		if got != want || ok != (want != "") {
			t.Errorf("Normalize(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestURI(t *testing.T) {
	secret := []byte("12345678901234567890")
	u, err := url.Parse(Default.URI("social.example", "alice", secret))
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/social.example:alice" {
		t.Errorf("uri %s", u)
	}
	q := u.Query()
	if q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || q.Get("issuer") != "social.example" || len(q) != 2 {
		t.Errorf("query %v", q)
	}
}
