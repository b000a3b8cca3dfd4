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

	"github.com/rampart-social/rampart/internal/store"
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
	got := mustParams(t, http.MethodPost, "/?q=1&a=query", "application/x-www-form-urlencoded",
		strings.NewReader("a=form&redirect_uris[]=x&redirect_uris[]=y&scopes=read+write"))
	wantValues(t, got, url.Values{
		"q":               {"1"},
		"a":               {"query", "form"}, // query first, then body; neither lost
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
	got := mustParams(t, http.MethodGet, "/?acct=alice&ids[]=1&ids[]=2", "", nil)
	wantValues(t, got, url.Values{"acct": {"alice"}, "ids[]": {"1", "2"}})

	// Query parameters merge into a JSON body's.
	got = mustParams(t, http.MethodPost, "/?scope=read", "application/json", strings.NewReader(`{"scope":"write"}`))
	wantValues(t, got, url.Values{"scope": {"read", "write"}})
}

func TestParamsErrors(t *testing.T) {
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
