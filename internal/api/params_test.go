package api

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

func paramsOf(t *testing.T, method, target, contentType string, body io.Reader) (url.Values, error) {
	t.Helper()
	req := httptest.NewRequest(method, "https://example.test"+target, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return params(req)
}

func mustParams(t *testing.T, method, target, contentType string, body io.Reader) url.Values {
	t.Helper()
	v, err := paramsOf(t, method, target, contentType, body)
	if err != nil {
		t.Fatalf("params: %v", err)
	}
	return v
}

func wantValues(t *testing.T, got, want url.Values) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("params =\n  %v\nwant\n  %v", got, want)
	}
}

func TestParamsFlattensJSON(t *testing.T) {
	t.Parallel()
	body := `{"source":{"privacy":"private"},"fields_attributes":[{"name":"a","value":"b"}],"redirect_uris":["x","y"],"locked":true}`
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
		got := mustParams(t, http.MethodPost, "/", ct, strings.NewReader(body))
		wantValues(t, got, url.Values{
			"source[privacy]":             {"private"},
			"fields_attributes[0][name]":  {"a"},
			"fields_attributes[0][value]": {"b"},
			"redirect_uris[]":             {"x", "y"},
			"locked":                      {"true"},
		})
	}
}

func TestParamsJSONScalars(t *testing.T) {
	t.Parallel()
	got := mustParams(t, http.MethodPost, "/", "application/json",
		strings.NewReader(`{"n":1.50,"big":12345678901234567890,"f":false,"null":null,"s":"ü <b>","deep":{"a":{"b":["c"]}},
			"objs":[{"k":1},{"k":2}],"empty":[],"emptyobj":{}}`))
	wantValues(t, got, url.Values{
		"n":            {"1.50"}, // numbers keep their text (UseNumber): no float rounding of ids
		"big":          {"12345678901234567890"},
		"f":            {"false"},
		"null":         {""},
		"s":            {"ü <b>"},
		"deep[a][b][]": {"c"},
		"objs[0][k]":   {"1"},
		"objs[1][k]":   {"2"},
	})
}

// Clients send fields_attributes as an array or as an object keyed by index;
// both reach profileFields in order.
func TestParamsProfileFields(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"array":  `{"fields_attributes":[{"name":"a","value":"b"},{"name":"c","value":"d"}]}`,
		"object": `{"fields_attributes":{"1":{"name":"c","value":"d"},"0":{"name":"a","value":"b"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := mustParams(t, http.MethodPatch, "/", "application/json", strings.NewReader(body))
			fields, ok := profileFields(p)
			want := []store.Field{{Name: "a", Value: "b"}, {Name: "c", Value: "d"}}
			if !ok || !reflect.DeepEqual(fields, want) {
				t.Errorf("profileFields = %v, %v; want %v", fields, ok, want)
			}
		})
	}
	form, _ := url.ParseQuery("fields_attributes[0][name]=a&fields_attributes[0][value]=b&fields_attributes[16][name]=x")
	fields, ok := profileFields(form)
	if !ok || !reflect.DeepEqual(fields, []store.Field{{Name: "a", Value: "b"}}) {
		t.Errorf("form profileFields = %v, %v (index 16 is out of range)", fields, ok)
	}
	if _, ok := profileFields(url.Values{"display_name": {"x"}}); ok {
		t.Errorf("profileFields found fields where none were sent")
	}
}

func TestParamsForm(t *testing.T) {
	t.Parallel()
	got := mustParams(t, http.MethodPost, "/?q=1&a=query", "application/x-www-form-urlencoded",
		strings.NewReader("a=form&redirect_uris[]=x&redirect_uris[]=y&scopes=read+write"))
	wantValues(t, got, url.Values{
		"q":               {"1"},
		"a":               {"form"}, // the body wins
		"redirect_uris[]": {"x", "y"},
		"scopes":          {"read write"},
	})
	if list(got, "redirect_uris")[1] != "y" {
		t.Errorf("list(redirect_uris) = %v", list(got, "redirect_uris"))
	}

	// A body without Content-Type is not an error (net/http reads it as
	// application/octet-stream and leaves it unparsed).
	if _, err := paramsOf(t, http.MethodPost, "/?x=1", "", strings.NewReader("a=1")); err != nil {
		t.Errorf("untyped body: %v", err)
	}
}

func TestParamsMultipart(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("display_name", "Alice")
	mw.WriteField("fields_attributes[0][name]", "a")
	mw.WriteField("fields_attributes[0][value]", "b")
	fw, _ := mw.CreateFormFile("avatar", "a.png")
	fw.Write([]byte("\x89PNG not really"))
	mw.Close()
	got := mustParams(t, http.MethodPatch, "/?locked=true", mw.FormDataContentType(), &buf)
	wantValues(t, got, url.Values{
		"locked":                      {"true"},
		"display_name":                {"Alice"},
		"fields_attributes[0][name]":  {"a"},
		"fields_attributes[0][value]": {"b"},
	})

	if _, err := paramsOf(t, http.MethodPatch, "/", "multipart/form-data", strings.NewReader("junk")); err == nil {
		t.Errorf("multipart without a boundary was accepted")
	}
	if _, err := paramsOf(t, http.MethodPatch, "/", "multipart/form-data; boundary=xyz", strings.NewReader("junk")); err == nil {
		t.Errorf("malformed multipart was accepted")
	}
}

func TestParamsQueryOnly(t *testing.T) {
	t.Parallel()
	got := mustParams(t, http.MethodGet, "/?acct=alice&ids[]=1&ids[]=2", "", nil)
	wantValues(t, got, url.Values{"acct": {"alice"}, "ids[]": {"1", "2"}})

	// Query parameters join a JSON body's, but never override them.
	got = mustParams(t, http.MethodPost, "/?scope=read&state=q", "application/json", strings.NewReader(`{"scope":"write"}`))
	wantValues(t, got, url.Values{"scope": {"write"}, "state": {"q"}})
}

// The body wins over the query string for a name it carries, in any of its
// bracketed forms: list() prefers key[], so a query's key[] must not slip in
// beside a body's key; and a query's source[privacy] must not join a body's source.
func TestParamsBodyWins(t *testing.T) {
	t.Parallel()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("redirect_uris", "https://good.example/cb")
	mw.WriteField("source[privacy]", "private")
	mw.Close()
	for name, c := range map[string]struct{ ct, body string }{
		"form":      {"application/x-www-form-urlencoded", "redirect_uris=https%3A%2F%2Fgood.example%2Fcb&source[privacy]=private"},
		"json":      {"application/json", `{"redirect_uris":"https://good.example/cb","source":{"privacy":"private"}}`},
		"multipart": {mw.FormDataContentType(), mp.String()},
		"untyped":   {"", "redirect_uris=https%3A%2F%2Fgood.example%2Fcb&source[privacy]=private"},
	} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
			got := mustParams(t, method, "/?redirect_uris[]=https://evil.example/cb&redirect_uris=https://evil.example/2&source[sensitive]=true&source=x&other=kept",
				c.ct, strings.NewReader(c.body))
			wantValues(t, got, url.Values{
				"redirect_uris":   {"https://good.example/cb"},
				"source[privacy]": {"private"},
				"other":           {"kept"},
			})
			if l := list(got, "redirect_uris"); len(l) != 1 || l[0] != "https://good.example/cb" {
				t.Errorf("%s %s: list(redirect_uris) = %v", name, method, l)
			}
		}
	}
	// Without a body, the query string is all there is.
	got := mustParams(t, http.MethodGet, "/?redirect_uris[]=a&source[privacy]=public", "", nil)
	wantValues(t, got, url.Values{"redirect_uris[]": {"a"}, "source[privacy]": {"public"}})
}

// Through the real handlers: an app registered with a name in both the query
// and the body takes the body's; a token request whose query names another
// grant type is decided by its body.
func TestBodyWinsOverQueryThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.do(t, http.MethodPost, "/api/v1/apps?client_name=FromQuery&redirect_uris=https%3A%2F%2Fevil.example%2Fcb",
		strings.NewReader(`{"client_name":"FromBody","redirect_uris":"urn:ietf:wg:oauth:2.0:oob"}`), "Content-Type", "application/json")
	v := wantJSON(t, rec, http.StatusOK)
	if v["name"] != "FromBody" || v["redirect_uri"] != oauth.OOB {
		t.Fatalf("app = %v; want the body's name and redirect URI", v)
	}
	id, secret := v["client_id"].(string), v["client_secret"].(string)

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"read"}}
	rec = e.do(t, http.MethodPost, "/oauth/token?grant_type=authorization_code&client_secret=wrong&scope=write",
		strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	tok := wantJSON(t, rec, http.StatusOK)
	if tok["scope"] != "read" {
		t.Errorf("token scope = %v, want the body's read", tok["scope"])
	}

	// An upload's description: the multipart body's, not the query's.
	var up bytes.Buffer
	mw := multipart.NewWriter(&up)
	fw, _ := mw.CreateFormFile("file", "x.png")
	fw.Write(testutil.GradientPNG(t, 8, 8))
	mw.WriteField("description", "from the body")
	mw.Close()
	rec = e.do(t, http.MethodPost, "/api/v1/media?description=from+the+query", &up,
		append(bearerHeader(e.userToken(t, e.bob, "write:media")), "Content-Type", mw.FormDataContentType())...)
	if m := wantJSON(t, rec, http.StatusOK); m["description"] != "from the body" {
		t.Errorf("upload description = %v", m["description"])
	}

	// A GET still reads its query string.
	rec = e.do(t, http.MethodGet, "/api/v1/apps/verify_credentials?access_token="+url.QueryEscape(tok["access_token"].(string)), nil)
	if v := wantJSON(t, rec, http.StatusOK); v["name"] != "FromBody" {
		t.Errorf("verify_credentials by query token = %v", v)
	}
}

// Each bound holds exactly: at the bound a request is read, one past it is
// refused with a message that names the bound.
func TestParamsBounds(t *testing.T) {
	t.Parallel()
	jsonNested := func(levels int) string { // levels containers below the top-level object
		return `{"a":` + strings.Repeat(`{"b":`, levels) + `1` + strings.Repeat("}", levels) + `}`
	}
	jsonArrays := func(levels int) string {
		return `{"a":` + strings.Repeat("[", levels) + strings.Repeat("]", levels) + `}`
	}
	formValues := func(n int) string { return strings.TrimSuffix(strings.Repeat("a=&", n), "&") }
	jsonValues := func(n int) string { return `{"a":[` + strings.TrimSuffix(strings.Repeat("0,", n), ",") + `]}` }
	key := func(n int) string { return strings.Repeat("k", n) }
	// A name built by nesting: a[kkk…] of n bytes.
	nestedKey := func(n int) string { return `{"a":{"` + key(n-3) + `":1}}` }
	form, jsonCT := "application/x-www-form-urlencoded", "application/json"
	for _, c := range []struct {
		name, ct, query, body string
		want                  string // "" to be read
	}{
		{"depth at the bound", jsonCT, "", jsonNested(maxKeyDepth), ""},
		{"depth over", jsonCT, "", jsonNested(maxKeyDepth + 1), "nests deeper than 8"},
		{"empty arrays at the bound", jsonCT, "", jsonArrays(maxKeyDepth), ""},
		{"empty arrays over", jsonCT, "", jsonArrays(maxKeyDepth + 1), "nests deeper than 8"},
		{"form depth at the bound", form, "", "a" + strings.Repeat("[x]", maxKeyDepth) + "=1", ""},
		{"form depth over", form, "", "a" + strings.Repeat("[x]", maxKeyDepth+1) + "=1", "nests deeper than 8"},
		{"query depth over", form, "a" + strings.Repeat("[]", maxKeyDepth+1) + "=1", "", "nests deeper than 8"},
		{"form values at the bound", form, "", formValues(maxValues), ""},
		{"form values over", form, "", formValues(maxValues + 1), "more than 1000"},
		{"query and body values over", form, "q=1", formValues(maxValues), "more than 1000"},
		{"JSON values at the bound", jsonCT, "", jsonValues(maxValues - 1), ""}, // the array is one
		{"JSON values over", jsonCT, "", jsonValues(maxValues), "more than 1000"},
		{"JSON empty objects over", jsonCT, "", `{"a":[` + strings.TrimSuffix(strings.Repeat("{},", maxValues), ",") + `]}`, "more than 1000"},
		{"key at the bound", form, "", key(maxKeyBytes) + "=1", ""},
		{"key over", form, "", key(maxKeyBytes+1) + "=1", "longer than 128"},
		{"query key over", form, key(maxKeyBytes+1) + "=1", "", "longer than 128"},
		{"JSON key at the bound", jsonCT, "", `{"` + key(maxKeyBytes) + `":1}`, ""},
		{"JSON key over", jsonCT, "", `{"` + key(maxKeyBytes+1) + `":1}`, "longer than 128"},
		{"nested name at the bound", jsonCT, "", nestedKey(maxKeyBytes), ""},
		{"nested name over", jsonCT, "", nestedKey(maxKeyBytes + 1), "longer than 128"},
		{"list name over", jsonCT, "", `{"` + key(maxKeyBytes-1) + `":["x"]}`, "longer than 128"},
		{"size at the bound", form, "", "k=" + strings.Repeat("v", maxParamBytes-1), ""},
		{"size over", form, "", "k=" + strings.Repeat("v", maxParamBytes), "larger than 1048576"},
		{"query makes it over", form, "q=", "k=" + strings.Repeat("v", maxParamBytes-1), "larger than 1048576"},
		{"JSON size over", jsonCT, "", `{"k":"` + strings.Repeat("v", maxParamBytes) + `"}`, "larger than 1048576"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := paramsOf(t, http.MethodPost, "/?"+c.query, c.ct, strings.NewReader(c.body))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want one saying %q", err, c.want)
			case err == nil:
				checkParamBounds(t, v)
			}
		})
	}
}

// A body cut off by the server's cap (a chunked body, so no Content-Length
// to refuse it early) is named as too large, not as malformed.
func TestParamsBodyOverTheCap(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ ct, body string }{
		{"application/json", `{"a":"` + strings.Repeat("v", 2000) + `"}`},
		{"application/x-www-form-urlencoded", "a=" + strings.Repeat("v", 2000)},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		req.ContentLength = -1
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, 1024)
		if _, err := params(req); err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
			t.Errorf("%s over the cap: %v", c.ct, err)
		}
	}
}

// checkParamBounds fails unless v keeps every bound params promises.
func checkParamBounds(t testing.TB, v url.Values) {
	t.Helper()
	n, size := 0, 0
	for k, vs := range v {
		if len(k) > maxKeyBytes || strings.Count(k, "[") > maxKeyDepth {
			t.Fatalf("name %.40q… (%d bytes) over the bounds", k, len(k))
		}
		for _, x := range vs {
			n++
			size += len(k) + len(x)
		}
	}
	if n > maxValues || size > maxParamBytes {
		t.Fatalf("%d values, %d bytes: over the bounds", n, size)
	}
}

func TestParamsErrors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ ct, body, want string }{
		"text/plain":    {"text/plain", "a=1", "unsupported Content-Type"},
		"xml":           {"application/xml", "<a/>", "unsupported Content-Type"},
		"invalid JSON":  {"application/json", `{"a":`, "not valid JSON"},
		"empty JSON":    {"application/json", ``, "not valid JSON"},
		"JSON array":    {"application/json", `["a"]`, "must be a JSON object"},
		"JSON string":   {"application/json", `"a"`, "must be a JSON object"},
		"JSON null":     {"application/json", `null`, "must be a JSON object"},
		"bad form":      {"application/x-www-form-urlencoded", "a=%zz", "could not be read"},
		"bad multipart": {"multipart/form-data", "x", "could not be read"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := paramsOf(t, http.MethodPost, "/", c.ct, strings.NewReader(c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// Handlers answer a bad body with 400 and Mastodon's error shape.
func TestParamsErrorResponses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct{ ct, body string }{
		{"text/plain", "client_name=x"},
		{"application/json", "{"},
	} {
		rec := e.do(t, http.MethodPost, "/api/v1/apps", strings.NewReader(c.body), "Content-Type", c.ct)
		v := wantJSON(t, rec, http.StatusBadRequest)
		if s, _ := v["error"].(string); s == "" {
			t.Errorf("%s: no error message: %v", c.ct, v)
		}
	}
	// The same app registered by form, JSON and multipart.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("client_name", "Multipart")
	mw.WriteField("redirect_uris", "urn:ietf:wg:oauth:2.0:oob")
	mw.WriteField("scopes", "read write")
	mw.Close()
	for _, c := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "client_name=Form&redirect_uris=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&scopes=read+write"},
		{"application/json", `{"client_name":"JSON","redirect_uris":["urn:ietf:wg:oauth:2.0:oob"],"scopes":"read write"}`},
		{mw.FormDataContentType(), buf.String()},
	} {
		rec := e.do(t, http.MethodPost, "/api/v1/apps", strings.NewReader(c.body), "Content-Type", c.ct)
		v := wantJSON(t, rec, http.StatusOK)
		if got, _ := lookup(v, "redirect_uri"); got != "urn:ietf:wg:oauth:2.0:oob" {
			t.Errorf("%s: redirect_uri = %v", c.ct, got)
		}
		if got, _ := v["scopes"].([]any); len(got) != 2 {
			t.Errorf("%s: scopes = %v", c.ct, v["scopes"])
		}
	}
}

func TestTruthyAndOptionals(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"true", "1", "on", "yes", " TRUE "} {
		if !truthy(s) {
			t.Errorf("truthy(%q) = false", s)
		}
	}
	for _, s := range []string{"false", "0", "off", "", "no", "2"} {
		if truthy(s) {
			t.Errorf("truthy(%q) = true", s)
		}
	}
	v := url.Values{"a": {"x"}, "empty": {""}, "b": {"0"}}
	if p := optString(v, "a"); p == nil || *p != "x" {
		t.Errorf("optString(a) = %v", p)
	}
	if p := optString(v, "empty"); p == nil || *p != "" {
		t.Errorf("optString(empty) = %v, want a pointer to \"\" (sent, to clear)", p)
	}
	if optString(v, "missing") != nil || optBool(v, "missing") != nil {
		t.Errorf("missing keys read as sent")
	}
	if p := optBool(v, "b"); p == nil || *p {
		t.Errorf("optBool(b) = %v", p)
	}
	if got := list(url.Values{"k": {"1"}, "k[]": {"2", "3"}}, "k"); !reflect.DeepEqual(got, []string{"2", "3"}) {
		t.Errorf("list prefers k[]: %v", got)
	}
	if got := list(url.Values{"k": {"1"}}, "k"); !reflect.DeepEqual(got, []string{"1"}) {
		t.Errorf("list falls back to k: %v", got)
	}
}

func TestParamsWithoutContentTypeAndTrailingJSON(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("a=1&b=2"))
	v, err := params(r)
	if err != nil || v.Get("a") != "1" || v.Get("b") != "2" {
		t.Errorf("body without Content-Type: %v %v", v, err)
	}
	r = httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(`{"a":1}garbage`))
	r.Header.Set("Content-Type", "application/json")
	if _, err := params(r); err == nil {
		t.Error("JSON with trailing data was accepted")
	}
}
