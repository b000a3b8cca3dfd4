package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/api"
)

func TestAcceptedForm(t *testing.T) {
	cases := map[string]errorForm{
		"":       formText,
		"*/*":    formText,
		"text/*": formText,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": formHTML,
		"TEXT/HTML":                         formHTML,
		"application/json":                  formJSON,
		"application/json, text/plain, */*": formJSON,
		"application/activity+json":         formJSON,
		`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`: formJSON,
		"text/html;q=0.5, application/json":                                    formJSON,
		"text/html, application/json":                                          formHTML,
		"text/html;q=0, application/json;q=0.1":                                formJSON,
		"text/html;q=0":                                                        formText,
		"text/html;q=nonsense":                                                 formText,
		"text/html;q=2":                                                        formText,
		"text/plain":                                                           formText,
		"image/*":                                                              formText,
		";;;,,,":                                                               formText,
	}
	for accept, want := range cases {
		if got := acceptedForm([]string{accept}); got != want {
			t.Errorf("Accept %q: form %d, want %d", accept, got, want)
		}
	}
	if got := acceptedForm([]string{"text/plain", "text/html"}); got != formHTML {
		t.Errorf("two Accept headers: form %d, want HTML", got)
	}
}

// FuzzAcceptedForm: any Accept value is read without panic, and a value that
// names neither HTML nor JSON gets plain text.
func FuzzAcceptedForm(f *testing.F) {
	for _, s := range []string{"text/html", "application/json;q=0.5", "*/*", "text/html;q=", ";", "application/x+json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		form := acceptedForm([]string{accept})
		lower := strings.ToLower(accept)
		if !strings.Contains(lower, "html") && !strings.Contains(lower, "json") && form != formText {
			t.Fatalf("Accept %q: form %d without naming HTML or JSON", accept, form)
		}
	})
}

// Only net/http's plain-text 404, 405 and 413 are rewritten; a handler's own
// answer in any other type, and other statuses, pass untouched.
func TestClientErrorsRewriteOnlyPlainErrors(t *testing.T) {
	page := func(w http.ResponseWriter, r *http.Request, status int, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte("<p>" + msg))
	}
	errs := errorWriter{page: page, json: api.WriteError, isAPI: func(p string) bool { return strings.HasPrefix(p, "/api/") }}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		path    string
		status  int
		ctype   string
		body    string
	}{
		{"mux 404", http.NotFound, "/x", 404, "text/html; charset=utf-8", "<p>There is nothing"},
		{"405 keeps Allow", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET")
			http.Error(w, "Method Not Allowed", 405)
		}, "/x", 405, "text/html; charset=utf-8", "<p>This address"},
		{"API path", http.NotFound, "/api/v1/x", 404, "application/json; charset=utf-8", `{"error":"There is nothing at this address."}`},
		{"a handler's JSON 404", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			w.Write([]byte(`{"error":"Record not found"}`))
		}, "/api/v1/x", 404, "application/json", `{"error":"Record not found"}`},
		{"a page's own 404", func(w http.ResponseWriter, r *http.Request) { page(w, r, 404, "mine") }, "/x", 404, "text/html; charset=utf-8", "<p>mine"},
		{"a plain 400", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad", 400) }, "/x", 400, "text/plain; charset=utf-8", "bad"},
		{"a plain 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok"))
		}, "/x", 200, "text/plain; charset=utf-8", "ok"},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", tc.path, nil)
		req.Header.Set("Accept", "text/html")
		clientErrors(errs, tc.handler).ServeHTTP(rec, req)
		if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.ctype || !strings.HasPrefix(rec.Body.String(), tc.body) {
			t.Errorf("%s: %d %q %q, want %d %q %q…", tc.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), tc.status, tc.ctype, tc.body)
		}
		if tc.name == "405 keeps Allow" && rec.Header().Get("Allow") != "GET" {
			t.Errorf("%s: Allow %q", tc.name, rec.Header().Get("Allow"))
		}
	}
}
