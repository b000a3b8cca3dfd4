package httpsig

import (
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzParseDictionary: any bytes parse or are refused, and what parses
// serializes back to a form that parses to the same thing.
func FuzzParseDictionary(f *testing.F) {
	for _, s := range []string{
		`sig1=("@method" "@target-uri");created=1618884473;keyid="test-key-rsa"`,
		`sig1=:dGVzdA==:`,
		`a=1, b=?0, c="x\"y", d=tok/en:x;p=-3`,
		`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`,
		`a=(), b=(1 2 3);x`,
		``, `a=`, `a=(`, `=1`, `a=1,`, `a="\q"`, `a=:@@:`, `a=1.5`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		members, err := parseDictionary(s)
		if err != nil {
			return
		}
		for _, m := range members {
			if !m.isList {
				continue
			}
			again := serializeInnerList(m.list, m.params)
			back, err := parseDictionary("x=" + again)
			if err != nil {
				t.Fatalf("%q serialized to %q, which does not parse: %v", s, again, err)
			}
			if got := serializeInnerList(back[0].list, back[0].params); got != again {
				t.Fatalf("serialization is not stable: %q then %q", again, got)
			}
		}
	})
}

// FuzzParseSignature: any Signature, Signature-Input, Digest and Date
// headers give a signature or an *Error, never a panic, and a parsed one
// can be checked and verified without one either.
func FuzzParseSignature(f *testing.F) {
	f.Add(`keyId="k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"`, "", "", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=")
	f.Add(`keyId="k",headers="(created) (expires)",created=1,expires=2,signature="AAAA"`, "", "", "")
	f.Add("sig1=:AAAA:", `sig1=("@method" "@target-uri" "content-digest" "x-y");created=1;keyid="k";alg="ed25519"`, "", "")
	f.Add("sig1=:AAAA:", `sig1=("@query" "@path" "@authority" "@scheme" "@request-target");created=99999999999`, "Sun, 05 Jan 2014 21:31:40 GMT", "")
	f.Fuzz(func(t *testing.T, sig, input, date, digest string) {
		r := httptest.NewRequest("POST", "https://b.example/inbox?a=1", nil)
		r.Header.Set("Signature", sig)
		if input != "" {
			r.Header.Set("Signature-Input", input)
		}
		r.Header.Set("Date", date)
		r.Header.Set("Digest", digest)
		r.Header.Set("Content-Digest", digest)
		r.Header.Set("X-Y", "z")
		s, err := Parse(r, "https")
		if err != nil {
			if reason(err) == "" {
				t.Fatalf("Parse returned %T %v; every refusal is an *Error", err, err)
			}
			return
		}
		_ = s.Check(time.Now())
		for _, k := range testKeys {
			_ = s.Verify(k.Private.Public())
		}
		_ = s.VerifyBody([]byte("{}"))
	})
}
