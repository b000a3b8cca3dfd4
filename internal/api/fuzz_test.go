package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/testutil"
)

// The Content-Types FuzzParams sends a body as; the multipart boundary is fixed
// so the fuzzer can write parts.
var fuzzContentTypes = []string{
	"application/x-www-form-urlencoded",
	"application/json",
	"multipart/form-data; boundary=B",
	"",
}

// fuzzRequest is a request as a client could send it, built without the
// URL parsing of httptest.NewRequest (which panics on a bad target).
func fuzzRequest(method, rawQuery, contentType string, body []byte) *http.Request {
	r := &http.Request{Method: method, URL: &url.URL{Scheme: "https", Host: testHost, Path: "/x", RawQuery: rawQuery},
		Header: http.Header{}, Host: testHost, ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body))}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// referenceJSON is what params must make of a JSON body within the bounds:
// encoding/json's object, flattened with no bounds at all.
func referenceJSON(body []byte) (url.Values, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	out := url.Values{}
	var walk func(key string, x any)
	walk = func(key string, x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				walk(key+"["+k+"]", y)
			}
		case []any:
			for i, y := range x {
				if _, isObj := y.(map[string]any); isObj {
					walk(key+"["+strconv.Itoa(i)+"]", y)
				} else {
					walk(key+"[]", y)
				}
			}
		case nil:
			out.Add(key, "")
		case bool:
			out.Add(key, strconv.FormatBool(x))
		case json.Number:
			out.Add(key, string(x))
		case string:
			out.Add(key, x)
		}
	}
	for k, x := range obj {
		walk(k, x)
	}
	return out, true
}

// FuzzParams sends JSON, form, multipart and untyped bodies with a query
// string through params: it never panics, what it returns keeps every bound,
// the body's names are never overridden by the query, and what it reads
// agrees with encoding/json and url.ParseQuery.
func FuzzParams(f *testing.F) {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.SetBoundary("B")
	mw.WriteField("display_name", "Alice")
	mw.WriteField("fields_attributes[0][name]", "a")
	fw, _ := mw.CreateFormFile("avatar", "a.png")
	fw.Write(testutil.GradientPNG(f, 2, 2))
	mw.Close()
	for _, c := range []struct {
		kind  uint8
		query string
		body  []byte
	}{
		{0, "q=1&a=query", []byte("a=form&redirect_uris[]=x&scopes=read+write")},
		{0, "", []byte("a=%zz")},
		{0, "x;y=1", []byte("a=1;b")},
		{1, "scope=read", []byte(`{"scope":"write","source":{"privacy":"private"},"fields_attributes":[{"name":"a","value":"b"}],"n":1.50,"x":null,"t":true}`)},
		{1, "", []byte(`{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}`)},
		{1, "", []byte(`{"a":1,"a":{"b":2}}`)},
		{1, "", []byte(`{"a":[[],{}],"b":[0,{"c":[1]}]}`)},
		{1, "", []byte(`{"a":1} {}`)},
		{1, "", []byte(`["a"]`)},
		{2, "display_name=Q&locked=1", mp.Bytes()},
		{3, "", []byte("a=1&b=2")},
		{4, "acct=alice&ids[]=1&ids[]=2", nil},
	} {
		f.Add(c.kind, c.query, c.body)
	}
	f.Fuzz(func(t *testing.T, kind uint8, query string, body []byte) {
		body = body[:len(body):len(body)]
		method, ct := http.MethodPost, fuzzContentTypes[int(kind)%len(fuzzContentTypes)]
		if kind%8 >= 4 {
			method = http.MethodGet
		}
		got, err := params(fuzzRequest(method, query, ct, body))
		if err != nil {
			return
		}
		checkParamBounds(t, got)
		profileFields(got)
		list(got, "redirect_uris")

		// The body's names come from the body alone.
		bodyOnly, err := params(fuzzRequest(method, "", ct, body))
		if err != nil {
			t.Fatalf("the body alone is refused (%v) but not with a query", err)
		}
		fromBody := map[string]bool{}
		for k, vs := range bodyOnly {
			fromBody[topName(k)] = true
			if !reflect.DeepEqual(got[k], vs) {
				t.Fatalf("%q = %q with the query, %q from the body alone", k, got[k], vs)
			}
		}
		q, _ := url.ParseQuery(query)
		for k, vs := range got {
			if _, ok := bodyOnly[k]; ok {
				continue
			}
			if fromBody[topName(k)] || !reflect.DeepEqual(vs, q[k]) {
				t.Fatalf("%q = %q: neither the body's nor the query's (%q)", k, vs, q[k])
			}
		}

		// Agreement with the standard library on what they both read.
		switch {
		case method == http.MethodGet:
		case ct == "application/json":
			want, ok := referenceJSON(body)
			if !ok || !reflect.DeepEqual(bodyOnly, want) {
				t.Fatalf("params read %q; encoding/json reads %q (ok %v)", bodyOnly, want, ok)
			}
		case ct == "application/x-www-form-urlencoded" || ct == "":
			want, err := url.ParseQuery(string(body))
			if err != nil || !reflect.DeepEqual(bodyOnly, want) {
				t.Fatalf("params read %q; url.ParseQuery reads %q (%v)", bodyOnly, want, err)
			}
		}
	})
}

// FuzzPaging reads page cursors, id lists, path ids and the Link header from
// any query string: limits stay within their maximum, cursors and ids are
// positive numbers, and every Link is a URL on this instance without the
// access token.
func FuzzPaging(f *testing.F) {
	for _, s := range []string{"", "max_id=5&since_id=1&min_id=2&limit=10", "limit=-1", "limit=99999999999999999999",
		"max_id=abc&id[]=1&id[]=x&id=2&id=-3", "access_token=SECRET&q=%zz&type=accounts", "a=1;b=2", "limit=0&max_id=0"} {
		f.Add(s, "12", int64(7), int64(3))
	}
	a := &API{cfg: testutil.ProdConfig(f, f.TempDir())}
	base := a.cfg.InstanceURL()
	f.Fuzz(func(t *testing.T, query, pathValue string, first, last int64) {
		r := fuzzRequest(http.MethodGet, query, "", nil)
		r.URL.Path = "/api/v1/timelines/public"
		for _, max := range []int{statusLimit, accountsLimit} {
			p := pageFrom(r, max)
			if p.Limit < 1 || p.Limit > max || p.MaxID < 0 || p.SinceID < 0 || p.MinID < 0 {
				t.Fatalf("pageFrom(%q, %d) = %+v", query, max, p)
			}
			w := &headerWriter{h: http.Header{}}
			a.setLink(w, r, p, []int64{first, last})
			for _, part := range strings.Split(w.h.Get("Link"), ", ") {
				if part == "" {
					continue
				}
				target, rel, ok := strings.Cut(part, ">; rel=")
				u, err := url.Parse(strings.TrimPrefix(target, "<"))
				if !ok || !strings.HasPrefix(target, "<") || (rel != `"next"` && rel != `"prev"`) || err != nil ||
					u.Scheme != base.Scheme || u.Host != base.Host || u.Path != r.URL.Path || u.Query().Has("access_token") {
					t.Fatalf("Link part %q for query %q", part, query)
				}
			}
		}
		for _, id := range idList(r, "id") {
			if id <= 0 {
				t.Fatalf("idList(%q) holds %d", query, id)
			}
		}
		r.SetPathValue("id", pathValue)
		if id, ok := pathID(r, "id"); ok && id <= 0 {
			t.Fatalf("pathID(%q) = %d", pathValue, id)
		}
	})
}

// headerWriter is a ResponseWriter that keeps only headers.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(int)             {}

// FuzzCredentials reads a bearer token and client credentials from any
// Authorization header and query string without panicking; a bearer token
// has no surrounding space.
func FuzzCredentials(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc ", "Basic YTpi", "Basic %%%", "Basic " + "YTolWlo=", "Bearer", ""} {
		f.Add(s, "access_token=x&client_id=a&client_secret=b")
	}
	f.Fuzz(func(t *testing.T, authorization, query string) {
		r := fuzzRequest(http.MethodPost, query, "", nil)
		r.Header.Set("Authorization", authorization)
		if tok := bearer(r); tok != strings.TrimSpace(tok) {
			t.Fatalf("bearer(%q) = %q", authorization, tok)
		}
		p, _ := url.ParseQuery(query)
		clientCredentials(r, p)
	})
}
