package httpsig

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cavageParams reads draft-cavage's parameter list: key="value" pairs
// (created and expires may be bare integers), comma separated. A repeated
// key is refused: which one a peer means is a guess.
func cavageParams(v string) (map[string]string, error) {
	if len(v) > maxHeaderLength {
		return nil, refuse("the Signature header is too long")
	}
	out := map[string]string{}
	s := strings.TrimSpace(v)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, refuse("malformed Signature header")
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, refuse("malformed Signature header")
			}
			val, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
			if _, err := strconv.ParseInt(val, 10, 64); err != nil {
				return nil, refuse("malformed Signature header")
			}
		}
		switch key {
		case "keyId", "algorithm", "headers", "signature", "created", "expires":
		default:
			// No peer sends another; one we do not read could be meant to
			// change what the signature says.
			return nil, refuse("unknown Signature parameter")
		}
		if _, dup := out[key]; dup {
			return nil, refuse("malformed Signature header")
		}
		out[key] = val
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, refuse("malformed Signature header")
		}
		s = strings.TrimLeft(s[1:], " \t")
	}
	return out, nil
}

func parseCavage(r *http.Request, header string) (*Signature, error) {
	p, err := cavageParams(header)
	if err != nil {
		return nil, err
	}
	s := &Signature{Generation: Cavage, KeyID: p["keyId"], Algorithm: p["algorithm"], method: r.Method, header: r.Header}
	if s.KeyID == "" || p["signature"] == "" {
		return nil, refuse("keyId and signature are required")
	}
	switch s.Algorithm {
	case "", "rsa-sha256", "hs2019", "ed25519":
	default:
		return nil, refuse("unsupported algorithm %q", s.Algorithm)
	}
	if s.Value, err = decodeSignature(p["signature"]); err != nil {
		return nil, err
	}
	// Without a headers list draft-cavage signs only Date (Mastodon's
	// reading; Check then refuses it for covering too little).
	list := "date"
	if h, ok := p["headers"]; ok {
		list = h
	}
	s.Covered = strings.Fields(strings.ToLower(list))
	if len(s.Covered) == 0 || len(s.Covered) > maxCovered {
		return nil, refuse("the headers list is empty or too long")
	}
	for i, name := range s.Covered {
		// A name twice would copy its value twice: refused, so that the
		// signing string is bounded by the request's own size.
		if slices.Contains(s.Covered[:i], name) {
			return nil, refuse("header %q is listed twice", name)
		}
	}
	// Draft-cavage §2.3: (created) and (expires) are hs2019's; with an
	// rsa-* algorithm they are an error (Mastodon refuses them too).
	if (s.covers("(created)") || s.covers("(expires)")) && s.Algorithm != "" && s.Algorithm != "hs2019" {
		return nil, refuse("(created) and (expires) are not allowed with %s", s.Algorithm)
	}
	var created, expires int64 = -1, -1
	if v, ok := p["created"]; ok {
		if created, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, refuse("malformed created")
		}
	}
	if v, ok := p["expires"]; ok {
		if expires, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, refuse("malformed expires")
		}
	}

	target := strings.ToLower(r.Method) + " " + r.URL.RequestURI()
	var withQuery, pathOnly bytes.Buffer
	for i, name := range s.Covered {
		var value string
		switch name {
		case "(request-target)":
			value = target
		case "(created)":
			if created < 0 {
				return nil, refuse("(created) is signed but not given")
			}
			value = strconv.FormatInt(created, 10)
		case "(expires)":
			if expires < 0 {
				return nil, refuse("(expires) is signed but not given")
			}
			value = strconv.FormatInt(expires, 10)
		default:
			v, ok := headerValue(r, name)
			if !ok {
				return nil, refuse("signed header %q is missing", name)
			}
			value = v
		}
		if i > 0 {
			withQuery.WriteByte('\n')
			pathOnly.WriteByte('\n')
		}
		withQuery.WriteString(name + ": " + value)
		if name == "(request-target)" {
			value = strings.ToLower(r.Method) + " " + r.URL.EscapedPath()
		}
		pathOnly.WriteString(name + ": " + value)
	}
	if withQuery.Len() > maxSigningString {
		return nil, refuse("the signed headers are too long")
	}
	s.bases = [][]byte{withQuery.Bytes()}
	if r.URL.RawQuery != "" && s.covers("(request-target)") {
		s.bases = append(s.bases, pathOnly.Bytes())
	}

	switch {
	case s.covers("(created)"):
		if s.Created, err = unixTime(created); err != nil {
			return nil, err
		}
	case s.covers("date"):
		d, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil {
			return nil, refuse("malformed Date")
		}
		s.Created = d
	}
	if expires >= 0 {
		if s.Expires, err = unixTime(expires); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SignCavage signs r as draft-cavage-12, the way peers expect it: a GET
// covers (request-target) host date; a request with a body also digest and
// content-type, with Digest set to the body's SHA-256. It sets Host and
// Date itself. key is an RSA key (algorithm rsa-sha256, which every peer
// accepts) or an Ed25519 one (hs2019).
func SignCavage(r *http.Request, body []byte, key Key, now time.Time) error {
	prepare(r, now)
	covered := []string{"(request-target)", "host", "date"}
	if body != nil {
		r.Header.Set("Digest", "SHA-256="+sha256Base64(body))
		covered = append(covered, "digest")
		if r.Header.Get("Content-Type") != "" {
			covered = append(covered, "content-type")
		}
	}
	var base strings.Builder
	for i, name := range covered {
		if i > 0 {
			base.WriteByte('\n')
		}
		value := strings.ToLower(r.Method) + " " + r.URL.RequestURI()
		if name != "(request-target)" {
			value, _ = headerValue(r, name)
		}
		base.WriteString(name + ": " + value)
	}
	sig, alg, err := key.sign([]byte(base.String()))
	if err != nil {
		return err
	}
	if alg == "ed25519" {
		alg = "hs2019"
	}
	r.Header.Set("Signature", `keyId="`+key.ID+`",algorithm="`+alg+`",headers="`+strings.Join(covered, " ")+`",signature="`+sig+`"`)
	return nil
}

// prepare sets what both generations sign and a client would otherwise set
// only when sending: Host and Date.
func prepare(r *http.Request, now time.Time) {
	if r.Host == "" {
		r.Host = r.URL.Host
	}
	r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
}
