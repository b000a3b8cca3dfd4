// Package httpsec is the HTTP security layer (Akkoma's :http_security, made
// the default): the one place that decides which security headers every
// response carries — the instance host's set (CSP, framing, sniffing,
// referrer, HSTS, permissions) and the media host's stricter, inert set.
package httpsec

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/hostname"
)

// Layer holds the header sets, computed once from the config.
type Layer struct {
	app     http.Header
	media   http.Header
	csp     string
	enabled bool
}

// PermissionsPolicy closes the powerful browser features Rampart's pages never use.
const PermissionsPolicy = "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), " +
	"hid=(), magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), serial=(), usb=(), " +
	"browsing-topics=(), interest-cohort=()"

// MediaCSP makes user files inert: no scripts, no plugins, no same-origin, even when opened as a document,
// and no page may frame them.
const MediaCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

// New builds the layer for cfg.
func New(cfg *config.Config) *Layer {
	l := &Layer{enabled: cfg.Security.Headers, csp: BuildCSP(cfg)}
	l.app = http.Header{}
	set := l.app.Set
	set("X-XSS-Protection", "0") // the legacy XSS auditor caused leaks; CSP replaces it
	set("X-Permitted-Cross-Domain-Policies", "none")
	set("X-Frame-Options", "DENY")
	set("X-Content-Type-Options", "nosniff")
	set("Referrer-Policy", cfg.Security.ReferrerPolicy)
	set("Permissions-Policy", PermissionsPolicy)
	set("Cross-Origin-Opener-Policy", "same-origin")
	// Only the instance's own pages may load its responses as subresources;
	// AllowEmbedding opens this for the public static assets.
	set("Cross-Origin-Resource-Policy", "same-origin")
	set("Content-Security-Policy", l.csp)
	if sts := stsValue(cfg, cfg.InstanceURL().Scheme); sts != "" {
		set("Strict-Transport-Security", sts)
	}

	l.media = http.Header{}
	set = l.media.Set
	set("Content-Security-Policy", MediaCSP)
	set("X-Content-Type-Options", "nosniff")
	set("Cross-Origin-Resource-Policy", "cross-origin") // media is embedded by other instances and apps
	set("X-Frame-Options", "DENY")
	set("Referrer-Policy", "no-referrer")
	if sts := stsValue(cfg, cfg.MediaOrigin().Scheme); sts != "" {
		set("Strict-Transport-Security", sts)
	}
	return l
}

func stsValue(cfg *config.Config, scheme string) string {
	s := cfg.Security
	if !s.STS || scheme != "https" {
		return ""
	}
	v := "max-age=" + strconv.FormatInt(s.STSMaxAge, 10) + "; includeSubDomains"
	if s.STSPreload {
		v += "; preload"
	}
	return v
}

// BuildCSP renders the instance host's Content-Security-Policy. It never
// contains 'unsafe-inline' or 'unsafe-eval': Rampart's pages carry no inline
// script or style.
func BuildCSP(cfg *config.Config) string {
	inst := cfg.InstanceURL()
	media := cfg.MediaOrigin()
	mediaSrc := media.Scheme + "://" + media.Host
	ws := "wss://"
	if inst.Scheme == "http" {
		ws = "ws://"
	}
	directives := []string{
		"default-src 'none'",
		"base-uri 'none'",
		"frame-ancestors 'none'",
		"form-action 'self'",
		"img-src 'self' data: blob: " + mediaSrc,
		"media-src 'self' " + mediaSrc,
		"style-src 'self'",
		"font-src 'self'",
		"script-src 'self'",
		"connect-src 'self' " + ws + inst.Host,
		"manifest-src 'self'",
	}
	if inst.Scheme == "https" {
		directives = append(directives, "upgrade-insecure-requests")
	}
	if r := cfg.Security.CSPReportURI; r != "" {
		directives = append(directives, "report-uri "+r)
	}
	return strings.Join(directives, "; ")
}

// CSP is the instance host's policy as sent.
func (l *Layer) CSP() string { return l.csp }

// Enabled reports whether the instance host's set is sent (security.headers).
func (l *Layer) Enabled() bool { return l.enabled }

// AppHeaders is a copy of the instance host's set as App sends it: empty
// when security.headers is false. `gen nginx` writes it onto the answers
// nginx gives itself, so that those carry what Rampart's do.
func (l *Layer) AppHeaders() http.Header {
	if !l.enabled {
		return http.Header{}
	}
	return l.app.Clone()
}

// MediaHeaders is a copy of the media host's set as Media sends it (always).
func (l *Layer) MediaHeaders() http.Header { return l.media.Clone() }

// App wraps the instance host's handler. Headers are set before the handler
// runs, so every response — errors, redirects, 405s and recovered panics
// included — carries them.
func (l *Layer) App(next http.Handler) http.Handler {
	if !l.enabled {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		copyHeaders(w.Header(), l.app)
		next.ServeHTTP(w, r)
	})
}

// Media wraps the media host's handler. Its set is not switchable: the media
// origin is only safe while its responses are inert. It also drops any
// Set-Cookie, so the media origin can never hold session state.
func (l *Layer) Media(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		copyHeaders(w.Header(), l.media)
		next.ServeHTTP(&noCookieWriter{ResponseWriter: w}, r)
	})
}

// copyHeaders puts the template's headers on a response. The slices are
// shared, not copied (a dozen allocations per response otherwise), but
// capped at their length: a handler's Add appends to a new array and Set
// replaces the slice, so neither can reach the template.
func copyHeaders(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v[:len(v):len(v)]
	}
}

// noCookieWriter removes Set-Cookie before the header is sent.
type noCookieWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *noCookieWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Del("Set-Cookie")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noCookieWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *noCookieWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AllowEmbedding lets other origins load this one response as a subresource
// (Cross-Origin-Resource-Policy: cross-origin). The static assets need it:
// the API names the default avatar and header there, and third-party web
// clients show them with <img> from their own origin.
func (l *Layer) AllowEmbedding(w http.ResponseWriter) {
	if !l.enabled {
		return
	}
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
}

// AllowFormTarget widens this one response's form-action to the origin of an
// OAuth client's redirect URI. Browsers apply form-action to the redirect that
// follows a form post, so the consent page must name where "Approve" leads.
// Anything that is not a plain absolute URI is ignored.
func (l *Layer) AllowFormTarget(w http.ResponseWriter, redirectURI string) {
	if !l.enabled {
		return
	}
	source := formSource(redirectURI)
	if source == "" {
		return
	}
	w.Header().Set("Content-Security-Policy",
		strings.Replace(l.csp, "form-action 'self'", "form-action 'self' "+source, 1))
}

// formSource is a CSP source expression for a redirect URI: scheme://host for
// web URIs, "scheme:" for an app's custom scheme. It is never a wildcard or
// any other pattern, even for a URI that registration would refuse today but
// a store may still hold.
func formSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || strings.ContainsAny(uri, " ;,'\"\t\r\n") {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	for _, r := range scheme {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return ""
		}
	}
	switch scheme {
	case "http", "https":
		if !hostname.Literal(u.Host) {
			return ""
		}
		return scheme + "://" + u.Host
	case "javascript", "data", "blob", "filesystem", "urn":
		return ""
	}
	return scheme + ":"
}
