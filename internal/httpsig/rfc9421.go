package httpsig

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Key is a private key that signs for an actor: keyId names it, as the
// actor document publishes it.
type Key struct {
	ID      string
	Private crypto.Signer // *rsa.PrivateKey or ed25519.PrivateKey
}

// sign returns the base64 signature of base and the algorithm's RFC 9421
// name.
func (k Key) sign(base []byte) (string, string, error) {
	switch priv := k.Private.(type) {
	case *rsa.PrivateKey:
		sum := sha256.Sum256(base)
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
		if err != nil {
			return "", "", fmt.Errorf("sign: %w", err)
		}
		return base64.StdEncoding.EncodeToString(sig), "rsa-sha256", nil
	case ed25519.PrivateKey:
		return base64.StdEncoding.EncodeToString(ed25519.Sign(priv, base)), "ed25519", nil
	}
	return "", "", fmt.Errorf("sign: unsupported key type %T", k.Private)
}

func sha256Base64(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// signatureLabel names the one signature Rampart sends.
const signatureLabel = "sig1"

func parseRFC9421(r *http.Request, scheme string) (*Signature, error) {
	inputs, err := parseDictionary(strings.Join(r.Header.Values("Signature-Input"), ", "))
	if err != nil {
		return nil, refuse("malformed Signature-Input")
	}
	sigs, err := parseDictionary(strings.Join(r.Header.Values("Signature"), ", "))
	if err != nil {
		return nil, refuse("malformed Signature")
	}
	// One signature, as Mastodon: with several, which one speaks for the
	// sender is a choice a verifier should not make.
	if len(inputs) != 1 {
		return nil, refuse("exactly one signature is accepted")
	}
	in := inputs[0]
	if !in.isList {
		return nil, refuse("malformed Signature-Input")
	}
	var value []byte
	for _, m := range sigs {
		if m.name == in.name && !m.isList && m.item.kind == sfBytes {
			value = m.item.bytes
		}
	}
	if value == nil {
		return nil, refuse("no signature labelled %q", in.name)
	}
	if len(value) > maxSignatureSize {
		return nil, refuse("the signature has an impossible length")
	}
	s := &Signature{Generation: RFC9421, Value: value, method: r.Method, header: r.Header}

	for _, p := range in.params {
		switch p.key {
		case "keyid":
			if p.value.kind != sfString {
				return nil, refuse("keyid is not a string")
			}
			s.KeyID = p.value.str
		case "alg":
			if p.value.kind != sfString {
				return nil, refuse("alg is not a string")
			}
			s.Algorithm = p.value.str
		case "created", "expires":
			if p.value.kind != sfInteger {
				return nil, refuse("%s is not an integer", p.key)
			}
			t, err := unixTime(p.value.num)
			if err != nil {
				return nil, err
			}
			if p.key == "created" {
				s.Created = t
			} else {
				s.Expires = t
			}
		}
	}
	if s.KeyID == "" {
		return nil, refuse("keyid is required")
	}
	switch s.Algorithm {
	case "", "rsa-v1_5-sha256", "ed25519":
	default:
		return nil, refuse("unsupported algorithm %q", s.Algorithm)
	}

	var base bytes.Buffer
	for _, it := range in.list {
		if it.item.kind != sfString || len(it.params) > 0 {
			// sf, key, bs, req and tr change how a value is read; no peer
			// needs them, so they are refused rather than half done.
			return nil, refuse("unsupported component identifier")
		}
		name := it.item.str
		if s.covers(name) {
			return nil, refuse("component %q is covered twice", name)
		}
		value, err := componentValue(r, scheme, name)
		if err != nil {
			return nil, err
		}
		s.Covered = append(s.Covered, name)
		base.WriteString(`"` + name + `": ` + value + "\n")
	}
	if len(s.Covered) > maxCovered {
		return nil, refuse("too many covered components")
	}
	base.WriteString(`"@signature-params": ` + serializeInnerList(in.list, in.params))
	if base.Len() > maxSigningString {
		return nil, refuse("the signed components are too long")
	}
	s.bases = [][]byte{base.Bytes()}
	return s, nil
}

// componentValue is a covered component's value (RFC 9421 §2.1, §2.2).
func componentValue(r *http.Request, scheme, name string) (string, error) {
	switch name {
	case "@method":
		return r.Method, nil
	case "@target-uri":
		return scheme + "://" + r.Host + r.URL.RequestURI(), nil
	case "@authority":
		return strings.ToLower(r.Host), nil
	case "@scheme":
		return scheme, nil
	case "@request-target":
		return r.URL.RequestURI(), nil
	case "@path":
		if p := r.URL.EscapedPath(); p != "" {
			return p, nil
		}
		return "/", nil
	case "@query":
		return "?" + r.URL.RawQuery, nil
	}
	if name == "" || name[0] == '@' || strings.ToLower(name) != name {
		return "", refuse("unsupported component %q", name)
	}
	v, ok := headerValue(r, name)
	if !ok {
		return "", refuse("signed field %q is missing", name)
	}
	return v, nil
}

// SignRFC9421 signs r as RFC 9421, in the profile Mastodon verifies: one
// signature covering @method and @target-uri (and content-digest and
// content-type when there is a body, with Content-Digest set to its
// sha-256), created and keyid given. The target URI is r.URL's.
func SignRFC9421(r *http.Request, body []byte, key Key, now time.Time) error {
	for _, c := range []byte(key.ID) {
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("sign: key id %q is not printable ASCII", key.ID)
		}
	}
	prepare(r, now)
	covered := []string{"@method", "@target-uri"}
	if body != nil {
		r.Header.Set("Content-Digest", "sha-256=:"+sha256Base64(body)+":")
		covered = append(covered, "content-digest")
		if r.Header.Get("Content-Type") != "" {
			covered = append(covered, "content-type")
		}
	}
	alg := "rsa-v1_5-sha256"
	if _, ok := key.Private.(ed25519.PrivateKey); ok {
		alg = "ed25519"
	}
	list := make([]sfListItem, len(covered))
	var base bytes.Buffer
	for i, name := range covered {
		list[i] = sfListItem{item: sfItem{kind: sfString, str: name}}
		value, err := componentValue(r, r.URL.Scheme, name)
		if err != nil {
			return err
		}
		base.WriteString(`"` + name + `": ` + value + "\n")
	}
	params := serializeInnerList(list, []sfParam{
		{key: "created", value: sfItem{kind: sfInteger, num: now.Unix()}},
		{key: "keyid", value: sfItem{kind: sfString, str: key.ID}},
		{key: "alg", value: sfItem{kind: sfString, str: alg}},
	})
	base.WriteString(`"@signature-params": ` + params)
	sig, _, err := key.sign(base.Bytes())
	if err != nil {
		return err
	}
	r.Header.Set("Signature-Input", signatureLabel+"="+params)
	r.Header.Set("Signature", signatureLabel+"=:"+sig+":")
	return nil
}
