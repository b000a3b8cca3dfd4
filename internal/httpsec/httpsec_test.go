package httpsec

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/testutil"
)

func TestCSPHasEveryDirectiveAndNoUnsafeKeyword(t *testing.T) {
	cfg := testutil.ProdConfig(t, t.TempDir())
	got := testutil.ParseCSP(BuildCSP(cfg))
	if !reflect.DeepEqual(got, testutil.WantAppCSP) {
		t.Errorf("CSP directives\n got %v\nwant %v", got, testutil.WantAppCSP)
	}
	if strings.Contains(BuildCSP(cfg), "unsafe") {
		t.Errorf("CSP contains an unsafe keyword: %s", BuildCSP(cfg))
	}
}

func TestCSPInDevOverHTTP(t *testing.T) {
	cfg, err := config.Parse([]byte(`env = "dev"
url = "http://localhost:8080"
media_url = "http://127.0.0.1:8080"
secret_key = "`+testutil.Secret+`"
[security]
csp_report_uri = "/csp-report"
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	csp := testutil.ParseCSP(BuildCSP(cfg))
	if !reflect.DeepEqual(csp["connect-src"], []string{"'self'", "ws://localhost:8080"}) {
		t.Errorf("connect-src = %v, want ws:// for an http instance", csp["connect-src"])
	}
	if _, ok := csp["upgrade-insecure-requests"]; ok {
		t.Error("upgrade-insecure-requests on an http instance would break it")
	}
	if !reflect.DeepEqual(csp["img-src"], []string{"'self'", "data:", "blob:", "http://127.0.0.1:8080"}) {
		t.Errorf("img-src = %v", csp["img-src"])
	}
	if !reflect.DeepEqual(csp["report-uri"], []string{"/csp-report"}) {
		t.Errorf("report-uri = %v", csp["report-uri"])
	}
	rec := httptest.NewRecorder()
	New(cfg).App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if v := rec.Header().Get("Strict-Transport-Security"); v != "" {
		t.Errorf("HSTS over http: %q", v)
	}
}

func TestHSTSValues(t *testing.T) {
	cases := []struct {
		extra []string
		want  string
	}{
		{nil, "max-age=63072000; includeSubDomains"},
		{[]string{"[security]", "sts_max_age = 31536000"}, "max-age=31536000; includeSubDomains"},
		{[]string{"[security]", "sts_preload = true"}, "max-age=63072000; includeSubDomains; preload"},
		{[]string{"[security]", "sts = false"}, ""},
	}
	for _, tc := range cases {
		l := New(testutil.ProdConfig(t, t.TempDir(), tc.extra...))
		rec := httptest.NewRecorder()
		l.App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if got := rec.Header().Get("Strict-Transport-Security"); got != tc.want {
			t.Errorf("%v: HSTS = %q, want %q", tc.extra, got, tc.want)
		}
	}
}

func TestReferrerPolicySelectable(t *testing.T) {
	l := New(testutil.ProdConfig(t, t.TempDir(), "[security]", `referrer_policy = "no-referrer"`))
	rec := httptest.NewRecorder()
	l.App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
}

func TestLayerOffSendsNoAppHeadersButMediaStaysInert(t *testing.T) {
	l := New(testutil.ProdConfig(t, t.TempDir(), "[security]", "headers = false"))
	rec := httptest.NewRecorder()
	l.App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if v := rec.Header().Get("Content-Security-Policy"); v != "" {
		t.Errorf("layer off still sends CSP %q", v)
	}
	rec = httptest.NewRecorder()
	l.Media(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if v := rec.Header().Get("Content-Security-Policy"); v != MediaCSP {
		t.Errorf("media CSP with layer off = %q", v)
	}
}

func TestMediaNeverSetsCookies(t *testing.T) {
	l := New(testutil.ProdConfig(t, t.TempDir()))
	for name, h := range map[string]http.HandlerFunc{
		"explicit WriteHeader": func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
			w.WriteHeader(http.StatusOK)
		},
		"implicit by Write": func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
			w.Write([]byte("x"))
		},
	} {
		srv := httptest.NewServer(l.Media(h))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("%s: media response set cookies %q", name, c)
		}
		if resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: media headers missing: %v", name, resp.Header)
		}
	}
}

func TestHandlersCannotCorruptTheTemplate(t *testing.T) {
	l := New(testutil.ProdConfig(t, t.TempDir()))
	h := l.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Content-Security-Policy", "script-src *")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	rec := httptest.NewRecorder()
	l.App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if v := rec.Header().Values("Content-Security-Policy"); len(v) != 1 {
		t.Errorf("a handler's Add leaked into the next response: %q", v)
	}
}

// The exported sets are exactly what the layers send, and copies: gen nginx
// writes them onto nginx's own answers, so they must not drift from the
// handlers' headers, and a caller must not be able to change the layer.
func TestExportedSetsAreWhatTheLayersSend(t *testing.T) {
	sent := func(h http.Handler) http.Header {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Result().Header
	}
	for name, security := range map[string][]string{"headers on": nil, "headers off": {"headers = false"}} {
		t.Run(name, func(t *testing.T) {
			cfg := testutil.ProdConfig(t, t.TempDir(), append([]string{"[security]"}, security...)...)
			l := New(cfg)
			empty := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
			for what, c := range map[string]struct{ exported, sent http.Header }{
				"app":   {l.AppHeaders(), sent(l.App(empty))},
				"media": {l.MediaHeaders(), sent(l.Media(empty))},
			} {
				if !reflect.DeepEqual(c.exported, c.sent) {
					t.Errorf("%s: exported set\n %v\nthe layer sends\n %v", what, c.exported, c.sent)
				}
				if what == "media" && len(c.exported) == 0 {
					t.Error("media set is empty")
				}
			}
			if name == "headers on" && len(l.AppHeaders()) == 0 {
				t.Error("app set is empty with security.headers on")
			}
			l.AppHeaders().Set("X-Frame-Options", "ALLOWALL")
			l.MediaHeaders().Set("Content-Security-Policy", "")
			if got := sent(l.Media(empty)).Get("Content-Security-Policy"); got != MediaCSP {
				t.Errorf("changing the exported media set changed the layer: CSP %q", got)
			}
			if name == "headers on" && sent(l.App(empty)).Get("X-Frame-Options") != "DENY" {
				t.Error("changing the exported app set changed the layer")
			}
		})
	}
}

// Scanners grade the instance host on CORP and the media host on its CSP's
// frame-ancestors: both are asserted at their exact values.
func TestCORPAndMediaFrameAncestors(t *testing.T) {
	l := New(testutil.ProdConfig(t, t.TempDir()))
	rec := httptest.NewRecorder()
	l.App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("Cross-Origin-Resource-Policy"); len(got) != 1 || got[0] != "same-origin" {
		t.Errorf("app CORP = %q, want exactly same-origin", got)
	}
	rec = httptest.NewRecorder()
	l.Media(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	csp := testutil.ParseCSP(rec.Header().Get("Content-Security-Policy"))
	want := map[string][]string{"default-src": {"'none'"}, "frame-ancestors": {"'none'"}, "sandbox": {}}
	if !reflect.DeepEqual(csp, want) {
		t.Errorf("media CSP = %v, want %v", csp, want)
	}
	if got := rec.Header().Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("media CORP = %q, want cross-origin (other sites embed media)", got)
	}
}

// AllowEmbedding opens one response, never the template, and does nothing
// with the layer off (no CORP is sent then at all).
func TestAllowEmbeddingIsPerResponse(t *testing.T) {
	l := New(testutil.ProdConfig(t, t.TempDir()))
	rec := httptest.NewRecorder()
	l.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.AllowEmbedding(w) })).
		ServeHTTP(rec, httptest.NewRequest("GET", "/static/avatar.png", nil))
	if got := rec.Header().Values("Cross-Origin-Resource-Policy"); len(got) != 1 || got[0] != "cross-origin" {
		t.Errorf("embeddable response CORP = %q, want exactly cross-origin", got)
	}
	rec = httptest.NewRecorder()
	l.App(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
		t.Errorf("the next response's CORP = %q, want same-origin", got)
	}
	off := New(testutil.ProdConfig(t, t.TempDir(), "[security]", "headers = false"))
	rec = httptest.NewRecorder()
	off.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { off.AllowEmbedding(w) })).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Cross-Origin-Resource-Policy"); got != "" {
		t.Errorf("layer off: CORP = %q, want none", got)
	}
}
