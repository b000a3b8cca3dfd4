package api

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// params merges a request's query, form, multipart and JSON parameters the
// way Mastodon does. JSON is flattened to form keys: {"source":{"privacy":x}}
// becomes source[privacy], arrays become key[] (or key[i][field] for objects).
func params(r *http.Request) (url.Values, error) {
	v := url.Values{}
	for k, vs := range r.URL.Query() {
		v[k] = append(v[k], vs...)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var body any
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return nil, fmt.Errorf("the request body is not valid JSON")
		}
		obj, ok := body.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the request body must be a JSON object")
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("the request body has data after the JSON object")
		}
		n := 0
		for k, x := range obj {
			if !flatten(v, k, x, &n) {
				return nil, fmt.Errorf("the request body has more than %d values", maxValues)
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, fmt.Errorf("the form could not be read")
		}
		for k, vs := range r.MultipartForm.Value {
			v[k] = append(v[k], vs...)
		}
	case "application/x-www-form-urlencoded", "":
		// Like Rails, a body without a Content-Type is read as a form.
		if r.Body != nil && r.Method != http.MethodGet {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, fmt.Errorf("the request body could not be read")
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, fmt.Errorf("the form could not be read")
			}
			for k, vs := range form {
				v[k] = append(v[k], vs...)
			}
		}
	default:
		return nil, fmt.Errorf("unsupported Content-Type %q", ct)
	}
	return v, nil
}

// maxValues bounds how many values one request may carry: flattening makes
// a key per value, so a small body of many tiny values would otherwise cost
// far more memory than its size.
const maxValues = 1000

// flatten adds x under key; it reports false once more than maxValues were added.
func flatten(v url.Values, key string, x any, n *int) bool {
	if *n++; *n > maxValues {
		return false
	}
	switch x := x.(type) {
	case map[string]any:
		for k, y := range x {
			if !flatten(v, key+"["+k+"]", y, n) {
				return false
			}
		}
	case []any:
		listKey := key + "[]"
		for i, y := range x {
			k := listKey
			if _, isObj := y.(map[string]any); isObj {
				k = key + "[" + strconv.Itoa(i) + "]"
			}
			if !flatten(v, k, y, n) {
				return false
			}
		}
	case nil:
		v.Add(key, "")
	case bool:
		v.Add(key, strconv.FormatBool(x))
	case json.Number:
		v.Add(key, x.String())
	case string:
		v.Add(key, x)
	}
	return true
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
