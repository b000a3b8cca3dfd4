package server

import (
	"net/http"
	"strconv"
	"strings"
)

// ErrorPage renders the site's HTML page for an error (internal/web's,
// injected by internal/instance so that this package stays below the pages).
type ErrorPage func(w http.ResponseWriter, r *http.Request, status int, message string)

// errorForm is how a client reads an error.
type errorForm int

const (
	formText errorForm = iota // plain text: curl, probes, anything that does not say
	formJSON                  // Mastodon's {"error": "..."}
	formHTML                  // the site's styled page
)

// errorWriter answers the errors the request path raises itself on the
// instance host (the mux's 404 and 405, 413 and 421) in the form the client
// reads: JSON on the API's paths whatever the client asks (Mastodon clients
// parse {"error": ...}), the site's page for a browser (Accept names
// text/html), JSON for a client that asks for it, plain text otherwise.
type errorWriter struct {
	page  ErrorPage                                           // nil: plain text instead of pages
	json  func(w http.ResponseWriter, status int, msg string) // the API's error writer; nil: plain text instead of JSON
	isAPI func(path string) bool                              // nil: no API paths
}

func (e errorWriter) formFor(r *http.Request) errorForm {
	form := acceptedForm(r.Header.Values("Accept"))
	if e.isAPI != nil && e.isAPI(r.URL.Path) {
		form = formJSON
	}
	if form == formHTML && e.page == nil || form == formJSON && e.json == nil {
		return formText
	}
	return form
}

// write answers status with message in the client's form.
func (e errorWriter) write(w http.ResponseWriter, r *http.Request, status int, message string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Cache-Control", "no-store")
	switch e.formFor(r) {
	case formJSON:
		e.json(w, status, message)
	case formHTML:
		e.page(w, r, status, message)
	default:
		http.Error(w, message, status)
	}
}

// acceptedForm reads the Accept header: the page when text/html is listed at
// least as high as JSON, JSON when a JSON type is listed, else plain text.
// Wildcards do not count: every client accepts */*, only browsers name HTML.
func acceptedForm(accept []string) errorForm {
	var html, json float64
	for _, value := range accept {
		for _, item := range strings.Split(value, ",") {
			mediaType, params, _ := strings.Cut(item, ";")
			mediaType = strings.ToLower(strings.TrimSpace(mediaType))
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, v, ok := strings.Cut(p, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || parsed < 0 || parsed > 1 {
						parsed = 0 // a malformed weight does not count
					}
					q = parsed
				}
			}
			switch {
			case mediaType == "text/html":
				html = max(html, q)
			case mediaType == "application/json" ||
				strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json"):
				json = max(json, q)
			}
		}
	}
	switch {
	case html > 0 && html >= json:
		return formHTML
	case json > 0:
		return formJSON
	}
	return formText
}

// errorMessages are what the replaced plain-text errors say.
var errorMessages = map[int]string{
	http.StatusNotFound:              "There is nothing at this address.",
	http.StatusMethodNotAllowed:      "This address does not take this kind of request.",
	http.StatusRequestEntityTooLarge: "The request is too large.",
}

// clientErrors gives the plain-text 404, 405 and 413 that net/http writes
// (http.Error and http.NotFound: the ServeMux's own answers, a file server's,
// and web's unclaimed paths, which answer as the mux would) the client's
// form instead. Headers already set, such as the 405's Allow, are kept. Any
// other response passes through untouched.
func clientErrors(errs errorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&errorRewriter{ResponseWriter: w, r: r, errs: errs}, r)
	})
}

type errorRewriter struct {
	http.ResponseWriter
	r        *http.Request
	errs     errorWriter
	decided  bool
	replaced bool // the handler's body is dropped: the error was written in the client's form
}

func (w *errorRewriter) WriteHeader(code int) {
	if w.decided || code < 200 { // an informational answer comes before the real one
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.decided = true
	msg, ok := errorMessages[code]
	if ok && w.Header().Get("Content-Type") == "text/plain; charset=utf-8" && w.errs.formFor(w.r) != formText {
		w.replaced = true
		w.errs.write(w.ResponseWriter, w.r, code, msg)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorRewriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *errorRewriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
