package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/social"
)

// Bounds on one request's parameters, whatever carries them (query string,
// form, multipart or JSON), so that reading them costs at most a small
// multiple of the body, which server.limitBody has already capped. Mastodon's
// own parameters need far less: the deepest, fields_attributes[0][name] or
// data[alerts][follow], nest two levels, and no name is longer than 40 bytes.
const (
	// maxValues bounds how many values a request carries. Flattening makes a
	// key per value, so many tiny values would cost far more than their bytes.
	maxValues = 1000
	// maxKeyDepth bounds the bracket levels of one name: a[b][c] has two.
	// A JSON body may nest one level more, its top-level object.
	maxKeyDepth = 8
	// maxKeyBytes bounds one name, brackets included. Flattened JSON names
	// repeat every name above them, so the bound is on what flattening builds.
	maxKeyBytes = 128
	// maxParamBytes bounds all names and values together.
	maxParamBytes = 1 << 20
)

// Errors for parameters over the bounds; handlers answer them with 400.
var (
	errTooManyValues = fmt.Errorf("the request has more than %d parameter values", maxValues)
	errKeyTooDeep    = fmt.Errorf("a parameter name nests deeper than %d levels", maxKeyDepth)
	errKeyTooLong    = fmt.Errorf("a parameter name is longer than %d bytes", maxKeyBytes)
	errParamsTooBig  = fmt.Errorf("the parameters are larger than %d bytes in all", maxParamBytes)
)

// paramSet collects parameters and enforces the bounds as each one arrives,
// so nothing over them is ever held.
type paramSet struct {
	v     url.Values
	n     int // values
	bytes int // of names and values
}

// add appends one value under key.
func (ps *paramSet) add(key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if ps.n++; ps.n > maxValues {
		return errTooManyValues
	}
	if ps.bytes += len(key) + len(value); ps.bytes > maxParamBytes {
		return errParamsTooBig
	}
	ps.v[key] = append(ps.v[key], value)
	return nil
}

// checkKey applies the bounds on one name.
func checkKey(key string) error {
	if len(key) > maxKeyBytes {
		return errKeyTooLong
	}
	if strings.Count(key, "[") > maxKeyDepth {
		return errKeyTooDeep
	}
	return nil
}

// topName is a parameter's name without its brackets: source for source[privacy].
func topName(key string) string {
	name, _, _ := strings.Cut(key, "[")
	return name
}

// params merges a request's query, form, multipart and JSON parameters the
// way Mastodon reads them. JSON is flattened to form keys:
// {"source":{"privacy":x}} becomes source[privacy], arrays become key[] (or
// key[i][field] for objects). The body wins: a name the body carries (in any
// of its bracketed forms) is taken from the body alone, so a query string,
// which links and logs carry, cannot override what the client sent in the body.
func params(r *http.Request) (url.Values, error) {
	ps := &paramSet{v: url.Values{}}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := decodeJSONObject(r.Body)
		if err != nil {
			return nil, err
		}
		for k, x := range body {
			if err := flatten(ps, k, x); err != nil {
				return nil, err
			}
		}
	case "multipart/form-data":
		// net/http holds non-file parts in memory (at most 1000 parts, and
		// on the upload routes up to its fixed 10 MiB reserve), then they
		// are checked here.
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, bodyError(err, "the form could not be read")
		}
		for k, vs := range r.MultipartForm.Value {
			for _, x := range vs {
				if err := ps.add(k, x); err != nil {
					return nil, err
				}
			}
		}
	case "application/x-www-form-urlencoded", "":
		// Like Rails, a body without a Content-Type is read as a form.
		if r.Body != nil && r.Method != http.MethodGet {
			// Sized from Content-Length (which server.limitBody has held to
			// the cap) so the body is allocated once; String() does not copy it.
			var body strings.Builder
			if n := r.ContentLength; n > 0 {
				body.Grow(int(min(n, maxParamBytes)))
			}
			if _, err := io.Copy(&body, r.Body); err != nil {
				return nil, bodyError(err, "the request body could not be read")
			}
			if err := parseForm(ps, body.String(), true); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("unsupported Content-Type %q", ct)
	}
	fromBody := map[string]bool{}
	for k := range ps.v {
		fromBody[topName(k)] = true
	}
	query := &paramSet{v: url.Values{}, n: ps.n, bytes: ps.bytes}
	if err := parseForm(query, r.URL.RawQuery, false); err != nil {
		return nil, err
	}
	for k, vs := range query.v {
		if !fromBody[topName(k)] {
			ps.v[k] = vs
		}
	}
	return ps.v, nil
}

// bodyError names a body over the server's cap (a *http.MaxBytesError) as a
// *bodyTooLargeError, and otherwise says msg.
func bodyError(err error, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &bodyTooLargeError{limit: mbe.Limit}
	}
	return errors.New(msg)
}

// bodyTooLargeError is a body that grew past the server's cap while it was
// read: 413, like one whose Content-Length declared it.
type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("the request body is larger than %d bytes", e.limit)
}

// writeParamsError answers a request whose parameters could not be read:
// 413 for a body over the cap, else 400 with the reason.
func writeParamsError(w http.ResponseWriter, err error) {
	var tooLarge *bodyTooLargeError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// paramsFailure is a parameters error for services' error paths: a body over
// the cap stays itself (413 from serviceError), anything else is invalid input.
func paramsFailure(err error) error {
	var tooLarge *bodyTooLargeError
	if errors.As(err, &tooLarge) {
		return err
	}
	return &social.ValidationError{Field: "body", Msg: err.Error()}
}

// parseForm adds the pairs of an application/x-www-form-urlencoded string, as
// url.ParseQuery reads them, stopping at the first value over the bounds. A
// strict parse refuses a malformed pair; a lenient one (the query string, as
// url.URL.Query reads it) skips it.
func parseForm(ps *paramSet, s string, strict bool) error {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		var err error
		if strings.Contains(pair, ";") { // as url.ParseQuery: not a separator, not allowed
			err = errors.New("semicolon in the query")
		}
		if err == nil {
			key, err = url.QueryUnescape(key)
		}
		if err == nil {
			value, err = url.QueryUnescape(value)
		}
		if err != nil {
			if strict {
				return errors.New("the form could not be read")
			}
			continue
		}
		if err := ps.add(key, value); err != nil {
			return err
		}
	}
	return nil
}

// decodeJSONObject reads a JSON object token by token, refusing it as soon as
// it nests too deep or holds too many values, so no tree larger than the
// bounds is ever built (encoding/json alone would build
// one 10,000 levels deep). Like encoding/json, a repeated name keeps its last
// value; numbers keep their text (no float rounding of ids).
func decodeJSONObject(r io.Reader) (map[string]any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("the request body must be a JSON object")
	}
	w := jsonWalker{dec: dec}
	obj, err := w.object(1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the request body has data after the JSON object")
	}
	return obj, nil
}

// jsonError says why a body is not JSON.
func jsonError(err error) error {
	return bodyError(err, "the request body is not valid JSON")
}

type jsonWalker struct {
	dec   *json.Decoder
	nodes int // values and containers read so far
}

// value reads the value that starts with tok, inside depth containers.
func (w *jsonWalker) value(tok json.Token, depth int) (any, error) {
	if w.nodes++; w.nodes > maxValues {
		return nil, errTooManyValues
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth+1 > maxKeyDepth+1 {
		return nil, errKeyTooDeep
	}
	if d == '[' {
		return w.array(depth + 1)
	}
	return w.object(depth + 1)
}

// object reads members up to the closing brace of an object at depth.
func (w *jsonWalker) object(depth int) (map[string]any, error) {
	m := map[string]any{}
	for {
		tok, err := w.dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		if tok == json.Delim('}') {
			return m, nil
		}
		k, ok := tok.(string)
		if !ok {
			return nil, errors.New("the request body is not valid JSON")
		}
		if tok, err = w.dec.Token(); err != nil {
			return nil, jsonError(err)
		}
		x, err := w.value(tok, depth)
		if err != nil {
			return nil, err
		}
		m[k] = x
	}
}

// array reads elements up to the closing bracket of an array at depth.
func (w *jsonWalker) array(depth int) ([]any, error) {
	var out []any
	for {
		tok, err := w.dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		if tok == json.Delim(']') {
			return out, nil
		}
		x, err := w.value(tok, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
}

// flatten adds x under key. A name over the bound is refused before any name
// below it is built, even when nothing below holds a value: otherwise a long
// name over many empty objects would be copied once for each of them.
func flatten(ps *paramSet, key string, x any) error {
	if len(key) > maxKeyBytes {
		return errKeyTooLong
	}
	switch x := x.(type) {
	case map[string]any:
		for k, y := range x {
			if err := flatten(ps, key+"["+k+"]", y); err != nil {
				return err
			}
		}
	case []any:
		listKey := key + "[]"
		for i, y := range x {
			k := listKey
			if _, isObj := y.(map[string]any); isObj {
				k = key + "[" + strconv.Itoa(i) + "]"
			}
			if err := flatten(ps, k, y); err != nil {
				return err
			}
		}
	case nil:
		return ps.add(key, "")
	case bool:
		return ps.add(key, strconv.FormatBool(x))
	case json.Number:
		return ps.add(key, x.String())
	case string:
		return ps.add(key, x)
	}
	return nil
}

// optString returns a pointer when the key was sent at all.
func optString(v url.Values, key string) *string {
	if vs, ok := v[key]; ok && len(vs) > 0 {
		s := vs[0]
		return &s
	}
	return nil
}

// optBool reads Mastodon's truthy values ("true", "1", "on").
func optBool(v url.Values, key string) *bool {
	s := optString(v, key)
	if s == nil {
		return nil
	}
	b := truthy(*s)
	return &b
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "on", "yes":
		return true
	}
	return false
}

// list returns key[] values, or key's values.
func list(v url.Values, key string) []string {
	if vs := v[key+"[]"]; len(vs) > 0 {
		return vs
	}
	return v[key]
}
