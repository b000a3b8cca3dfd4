package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/session"
)

// safeReturn keeps redirects after sign-in on this host: a local absolute
// path only. url.Parse refuses ASCII control characters, which browsers drop
// ("/\t/evil" would be "//evil" to them), and bad escapes such as "/%zz";
// then the path must start with one slash, not two, and hold no backslash,
// which browsers read as a slash ("/\evil" is "//evil"). With one leading
// slash there is no scheme and no host.
func safeReturn(s string) string {
	if _, err := url.Parse(s); err != nil {
		return "/"
	}
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return "/"
	}
	return s
}

func (p *Pages) signInForm(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "signin.html", page{Title: "Sign in", CSRF: v.csrf, Account: v.account,
		ReturnTo: safeReturn(r.URL.Query().Get("return_to"))})
}

func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.readForm(w, r) {
		return
	}
	login := r.PostForm.Get("username")
	data := page{Title: "Sign in", CSRF: v.csrf, ReturnTo: safeReturn(r.PostForm.Get("return_to"))}
	if accounts.PlausibleLogin(strings.TrimSpace(login)) {
		data.Login = login // an over-long one is not echoed back
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		data.Error = "Your form expired. Please sign in again."
		p.render(w, r, http.StatusForbidden, "signin.html", data)
		return
	}
	out, err := p.Accounts.Authenticate(r.Context(), accounts.SignIn{Login: login, Password: r.PostForm.Get("password"),
		ClientIP: clientip.From(r.Context()), Device: p.Sessions.DeviceToken(r)})
	if out.ForgetDevice {
		p.Sessions.ForgetDevice(w)
	}
	var limited *accounts.RateLimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		data.Error = "Too many failed attempts. Try again in " + strconv.Itoa(limited.Seconds()) + " s."
		p.render(w, r, http.StatusTooManyRequests, "signin.html", data)
		return
	case errors.Is(err, accounts.ErrBadCredentials):
		data.Error = "Wrong username or password."
		p.render(w, r, http.StatusUnauthorized, "signin.html", data)
		return
	case errors.Is(err, accounts.ErrPending), errors.Is(err, accounts.ErrDisabled), errors.Is(err, accounts.ErrSuspended):
		data.Error = strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."
		p.render(w, r, http.StatusForbidden, "signin.html", data)
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	if err := p.Sessions.Start(r.Context(), w, v.state, out.Account.ID, r.UserAgent(), clientip.From(r.Context())); err != nil {
		p.fail(w, r, err)
		return
	}
	p.Sessions.SetDevice(w, out.Device, accounts.DeviceLifetime)
	if out.NewBrowser {
		// The history tells the owner; failing to write it must not undo a
		// sign-in that succeeded.
		if err := p.Accounts.RecordSecurityEvent(r.Context(), out.Account.ID, accounts.EventNewBrowserSignIn,
			clientip.From(r.Context()), r.UserAgent(), ""); err != nil {
			p.Log.Warn("recording a new browser's sign-in", "account", out.Account.ID, "err", err)
		}
	}
	http.Redirect(w, r, data.ReturnTo, http.StatusSeeOther)
}

func (p *Pages) signOut(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.readForm(w, r) {
		return
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		p.render(w, r, http.StatusForbidden, "message.html", page{Title: "Sign out", Error: "Your form expired. Please try again from the home page."})
		return
	}
	if err := p.Sessions.End(r.Context(), w, v.state); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
