// Package web serves Rampart's server-rendered pages and their static assets
// on the instance host: the landing page, sign-in and sign-out, the OAuth
// consent page, and the public profile (/@username) and status
// (/@username/:id) pages. Pages use html/template and external CSS only — no
// inline script or style — so the strict CSP of internal/httpsec holds, and
// they work with JavaScript disabled. Every form carries a CSRF token from
// internal/session.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/config"
	"github.com/rampart-social/rampart/internal/httpsec"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/passkeys"
	"github.com/rampart-social/rampart/internal/secondfactor"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Deps are the services the pages use.
type Deps struct {
	Config   *config.Config
	Log      *slog.Logger
	Store    *store.Store
	Sessions *session.Manager
	Accounts *accounts.Service
	OAuth    *oauth.Service
	Security *httpsec.Layer
	Social   *social.Service
	// SecondFactor is TOTP, recovery codes and the second sign-in step.
	SecondFactor *secondfactor.Service
	Passkeys     *passkeys.Service
}

// Pages renders the instance's pages.
type Pages struct {
	Deps
	tmpl   *template.Template
	static fs.FS          // the embedded static/ directory
	mux    *http.ServeMux // the mux Register added the pages to (see unclaimed)
	// uploads are the slots of profile forms being parsed (settings.go).
	uploads chan struct{}
}

// New parses the embedded templates.
func New(d Deps) *Pages {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded directory is there at build time
	}
	return &Pages{Deps: d, tmpl: template.Must(template.ParseFS(templateFiles, "templates/*.html")), static: static,
		uploads: make(chan struct{}, concurrentProfileUploads)}
}

// Register adds the pages and /static/ to mux.
func (p *Pages) Register(mux *http.ServeMux) {
	p.mux = mux
	mux.HandleFunc("GET /static/", p.staticFile)
	mux.HandleFunc("GET /{$}", p.home)
	mux.HandleFunc("GET /auth/sign_in", p.signInForm)
	mux.HandleFunc("POST /auth/sign_in", p.signIn)
	mux.HandleFunc("POST /auth/sign_out", p.signOut)
	mux.HandleFunc("GET /auth/second_factor", p.secondFactorForm)
	mux.HandleFunc("POST /auth/second_factor", p.secondFactor)
	mux.HandleFunc("GET /settings/two_factor", p.twoFactorPage)
	mux.HandleFunc("GET /settings/two_factor/qr.png", p.twoFactorQR)
	mux.HandleFunc("POST /settings/two_factor/enrol", p.twoFactorEnrol)
	mux.HandleFunc("POST /settings/two_factor/confirm", p.twoFactorConfirm)
	mux.HandleFunc("POST /settings/two_factor/recovery_codes", p.twoFactorRecoveryCodes)
	mux.HandleFunc("POST /settings/two_factor/disable", p.twoFactorDisable)
	mux.HandleFunc("GET /oauth/authorize", p.authorizeForm)
	mux.HandleFunc("POST /oauth/authorize", p.authorize)
	mux.HandleFunc("GET /tags/{tag}", p.tagPage)
	p.registerPasskeys(mux) // /settings/passkeys and /auth/passkey (passkeys.go)
	p.registerPasskeySecondFactor(mux)
	mux.HandleFunc("GET /settings/sessions", p.sessionsPage)
	mux.HandleFunc("POST /settings/sessions/revoke", p.revokeSession)
	mux.HandleFunc("POST /settings/sessions/others", p.revokeOtherSessions)
	mux.HandleFunc("POST /settings/apps/revoke", p.revokeApp)
	mux.HandleFunc("GET /settings/history", p.historyPage)
	p.registerSettings(mux)
	// /@username and /@username/:id: patterns that every other route is more
	// specific than (see profile.go for why they have this shape).
	mux.HandleFunc(oneSegment, p.profileRoute)
	mux.HandleFunc(moreSegments, p.statusRoute)
}

// staticFile serves one embedded asset. A directory is not served (no
// listing): it gets the 404 of a missing file, as does anything not a file.
// Other sites may embed the assets (third-party clients show the default
// avatar and header from here).
func (p *Pages) staticFile(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if fi, err := fs.Stat(p.static, name); err != nil || fi.IsDir() {
		http.NotFound(w, r) // the server gives it the client's form
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	p.Security.AllowEmbedding(w)
	http.ServeFileFS(w, r, p.static, name)
}

// ErrorPage is the site's page for an error that the request path raises
// (server.ErrorPage): the mux's 404 and 405, 413 and 421. Its link home is
// absolute, since a 421 is shown on a host that is not the instance's.
func (p *Pages) ErrorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	p.render(w, r, status, "error.html", page{Title: http.StatusText(status), Error: message, NoIndex: true,
		Home: p.Config.InstanceURL().String() + "/"})
}

// visitor is what the pages know about who is looking.
type visitor struct {
	state   session.State
	account *store.Account
	csrf    string
}

// load reads the session; a session of a disabled or unapproved account counts as signed out.
func (p *Pages) load(ctx context.Context, w http.ResponseWriter, r *http.Request) (*visitor, error) {
	st, err := p.Sessions.Load(ctx, r)
	if err != nil {
		return nil, err
	}
	v := &visitor{}
	if st.SignedIn() {
		u, err := p.Store.UserByAccountID(ctx, st.Session.AccountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if u != nil && accounts.Usable(u) == nil {
			if v.account, err = p.Store.AccountByID(ctx, u.AccountID); err != nil {
				return nil, err
			}
		} else {
			st.Session = nil
		}
	}
	v.state = p.Sessions.Ensure(w, st)
	v.csrf = p.Sessions.CSRFToken(v.state)
	return v, nil
}

// page is the data every template gets.
type page struct {
	Title    string
	Host     string
	CSRF     string
	Account  *store.Account
	Error    string
	Notice   string
	ReturnTo string
	Login    string
	Auth     *authView
	Code     string
	// Alternate is the ActivityPub id of what a public page shows, for
	// <link rel="alternate" type="application/activity+json">.
	Alternate string
	NoIndex   bool // <meta name="robots" content="noindex">
	Public    *publicView
	Home      string // the instance's home page, absolute (error pages)
	// Settings names the settings page shown ("profile", "two_factor", …),
	// for the settings navigation (templates/settings_nav.html).
	Settings string
	// TwoFactor is the two-factor settings page's (two_factor.go).
	TwoFactor *twoFactorView
	Security  *securityView // /settings/sessions and /settings/history (security_settings.go)
	// SettingsForm is what the profile, preferences and password pages show.
	SettingsForm *settingsView
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data page) {
	data.Host = p.Config.InstanceURL().Host
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := p.tmpl.ExecuteTemplate(w, name, data); err != nil {
		p.Log.Error("render page", "template", name, "path", r.URL.Path, "err", err)
	}
}

// readForm parses a POSTed form; when it cannot, it answers (413 for a body
// over the server's cap, 400 otherwise) and reports false.
func (p *Pages) readForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		p.render(w, r, http.StatusRequestEntityTooLarge, "message.html", page{Title: "Too large", Error: "The form is larger than this server accepts."})
		return false
	}
	p.render(w, r, http.StatusBadRequest, "message.html", page{Title: "Bad request", Error: "The form could not be read."})
	return false
}

func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.Log.Error("page", "path", r.URL.Path, "err", err)
	p.render(w, r, http.StatusInternalServerError, "message.html", page{Title: "Something went wrong",
		Error: "Something went wrong on our side. Please try again."})
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "home.html", page{Title: p.Config.Instance.Title, CSRF: v.csrf, Account: v.account})
}
