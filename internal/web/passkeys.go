package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/passkeys"
	"github.com/rampart-social/rampart/internal/session"
	"github.com/rampart-social/rampart/internal/store"
)

// The passkey pages and ceremonies. A ceremony is two requests: the page's
// script (static/passkeys.js) POSTs the form's fields (CSRF token included)
// to an options endpoint, which answers the options for
// navigator.credentials as JSON; then the script puts the browser's answer
// in the form's "credential" field and submits the form, an ordinary POST
// whose answer is an ordinary page or redirect — a passwordless sign-in
// ends as a password sign-in does. The rules are internal/passkeys'.

// passkeyBodyLimit caps every passkey request's body: a client response of
// passkeys.MaxResponseBytes, form-encoded, with room for the other fields.
const passkeyBodyLimit = 3*passkeys.MaxResponseBytes + 4<<10

// registerPasskeys adds the passkey routes (one line in Register).
func (p *Pages) registerPasskeys(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings/passkeys", p.passkeysPage)
	mux.HandleFunc("POST /settings/passkeys/options", p.passkeyRegisterOptions)
	mux.HandleFunc("POST /settings/passkeys", p.passkeyRegister)
	mux.HandleFunc("POST /settings/passkeys/{id}/remove", p.passkeyRemove)
	mux.HandleFunc("POST /auth/passkey/options", p.passkeySignInOptions)
	mux.HandleFunc("POST /auth/passkey", p.passkeySignIn)
}

// passkeyRow is one passkey as the settings page lists it.
type passkeyRow struct {
	ID       int64
	Name     string
	Created  string
	LastUsed string // "" when never used
}

// passkeysData is the settings page's data: the shared page and the list.
type passkeysData struct {
	page
	Keys []passkeyRow
}

func shortTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

// renderPasskeys shows the settings page with the account's passkeys.
func (p *Pages) renderPasskeys(w http.ResponseWriter, r *http.Request, v *visitor, status int, errMsg, notice string) {
	keys, err := p.Passkeys.List(r.Context(), v.account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data := passkeysData{page: page{Title: "Passkeys", CSRF: v.csrf, Account: v.account, Error: errMsg, Notice: notice,
		Settings: "passkeys", NoIndex: true, Host: p.Config.InstanceURL().Host}}
	for _, k := range keys {
		row := passkeyRow{ID: k.ID, Name: k.Name, Created: shortTime(k.CreatedAt)}
		if !k.LastUsedAt.IsZero() {
			row.LastUsed = shortTime(k.LastUsedAt)
		}
		data.Keys = append(data.Keys, row)
	}
	p.Security.AllowPasskeys(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := p.tmpl.ExecuteTemplate(w, "passkeys.html", data); err != nil {
		p.Log.Error("render page", "template", "passkeys.html", "path", r.URL.Path, "err", err)
	}
}

// signedInVisitor loads the visitor; a visitor not signed in is sent to the
// sign-in page (a page) or refused (JSON), and nil returned.
func (p *Pages) signedInVisitor(w http.ResponseWriter, r *http.Request, asJSON bool) *visitor {
	if !asJSON {
		v, _ := p.requireAccount(w, r, "/settings/passkeys")
		return v
	}
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return nil
	}
	if v.account == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "You are signed out. Sign in again."})
		return nil
	}
	return v
}

// readPasskeyForm reads a passkey request's form within passkeyBodyLimit
// and checks its CSRF token; when either fails it has answered.
func (p *Pages) readPasskeyForm(w http.ResponseWriter, r *http.Request, v *visitor, asJSON bool, onCSRF func()) bool {
	r.Body = http.MaxBytesReader(w, r.Body, passkeyBodyLimit)
	if asJSON {
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "The request is larger than this server accepts."})
			} else {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The request could not be read."})
			}
			return false
		}
	} else if !p.readForm(w, r) {
		return false
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		if asJSON {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "This page expired. Reload it and try again."})
		} else {
			onCSRF()
		}
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// passkeyMessage is what a person is told of a passkey error, with its
// status; ok is false for an error of ours (a 500).
func passkeyMessage(err error) (msg string, status int, ok bool) {
	var limited *accounts.RateLimitedError
	switch {
	case errors.As(err, &limited):
		return "Too many attempts. Try again in " + strconv.Itoa(limited.Seconds()) + " s.", http.StatusTooManyRequests, true
	case errors.Is(err, passkeys.ErrBadName), errors.Is(err, passkeys.ErrTooMany), errors.Is(err, passkeys.ErrNone):
		return sentence(err), http.StatusBadRequest, true
	case errors.Is(err, passkeys.ErrExists):
		return sentence(err), http.StatusConflict, true
	case errors.Is(err, passkeys.ErrNoCeremony), errors.Is(err, passkeys.ErrRefused), errors.Is(err, passkeys.ErrCloned):
		return sentence(err), http.StatusForbidden, true
	case errors.Is(err, passkeys.ErrNotFound):
		return sentence(err), http.StatusNotFound, true
	case errors.Is(err, passkeys.ErrUnavailable):
		return sentence(err), http.StatusServiceUnavailable, true
	case errors.Is(err, accounts.ErrBadCredentials):
		return "Wrong password.", http.StatusUnauthorized, true
	case errors.Is(err, accounts.ErrPending), errors.Is(err, accounts.ErrDisabled), errors.Is(err, accounts.ErrSuspended):
		return sentence(err), http.StatusForbidden, true
	}
	return "", 0, false
}

// sentence capitalises an error's text and ends it with a full stop.
func sentence(err error) string {
	s := err.Error()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (p *Pages) passkeysPage(w http.ResponseWriter, r *http.Request) {
	v := p.signedInVisitor(w, r, false)
	if v == nil {
		return
	}
	notice := ""
	switch r.URL.Query().Get("done") {
	case "added":
		notice = "Passkey added."
	case "removed":
		notice = "Passkey removed."
	}
	p.renderPasskeys(w, r, v, http.StatusOK, "", notice)
}

// passkeyRegisterOptions begins adding a passkey: the form's name and the
// account's password (a session alone cannot add one), and the options for
// navigator.credentials.create.
func (p *Pages) passkeyRegisterOptions(w http.ResponseWriter, r *http.Request) {
	v := p.signedInVisitor(w, r, true)
	if v == nil || !p.readPasskeyForm(w, r, v, true, nil) {
		return
	}
	opts, forget, err := p.Passkeys.BeginRegistration(r.Context(), v.account.ID, v.state.Raw, r.PostForm.Get("name"),
		passkeys.Proof{Password: r.PostForm.Get("password"), ClientIP: clientip.From(r.Context()), Device: p.Sessions.DeviceToken(r)})
	if forget {
		p.Sessions.ForgetDevice(w)
	}
	p.writeOptions(w, r, opts, err)
}

func (p *Pages) writeOptions(w http.ResponseWriter, r *http.Request, opts json.RawMessage, err error) {
	if err != nil {
		msg, status, ok := passkeyMessage(err)
		if !ok {
			p.Log.Error("passkey options", "path", r.URL.Path, "err", err)
			msg, status = "Something went wrong on our side. Please try again.", http.StatusInternalServerError
		}
		var limited *accounts.RateLimitedError
		if errors.As(err, &limited) {
			w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		}
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

// passkeyRegister finishes adding a passkey with the browser's answer.
func (p *Pages) passkeyRegister(w http.ResponseWriter, r *http.Request) {
	v := p.signedInVisitor(w, r, false)
	if v == nil {
		return
	}
	if !p.readPasskeyForm(w, r, v, false, func() {
		p.renderPasskeys(w, r, v, http.StatusForbidden, "This page expired. Please try again.", "")
	}) {
		return
	}
	added, err := p.Passkeys.FinishRegistration(r.Context(), v.account.ID, v.state.Raw, []byte(r.PostForm.Get("credential")))
	if err != nil {
		msg, status, ok := passkeyMessage(err)
		if !ok {
			p.fail(w, r, err)
			return
		}
		p.renderPasskeys(w, r, v, status, msg, "")
		return
	}
	p.recordSecurityEvent(r, v.account.ID, accounts.EventPasskeyAdded, added.Name)
	http.Redirect(w, r, "/settings/passkeys?done=added", http.StatusSeeOther)
}

// passkeyRemove removes a passkey once the password is confirmed.
func (p *Pages) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	v := p.signedInVisitor(w, r, false)
	if v == nil {
		return
	}
	if !p.readPasskeyForm(w, r, v, false, func() {
		p.renderPasskeys(w, r, v, http.StatusForbidden, "This page expired. Please try again.", "")
	}) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.renderPasskeys(w, r, v, http.StatusNotFound, sentence(passkeys.ErrNotFound), "")
		return
	}
	forget, err := p.Passkeys.Remove(r.Context(), passkeys.Removal{AccountID: v.account.ID, PasskeyID: id,
		Password: r.PostForm.Get("password"), ClientIP: clientip.From(r.Context()), Device: p.Sessions.DeviceToken(r)})
	if forget {
		p.Sessions.ForgetDevice(w)
	}
	if err != nil {
		msg, status, ok := passkeyMessage(err)
		if !ok {
			p.fail(w, r, err)
			return
		}
		var limited *accounts.RateLimitedError
		if errors.As(err, &limited) {
			w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		}
		p.renderPasskeys(w, r, v, status, msg, "")
		return
	}
	p.recordSecurityEvent(r, v.account.ID, accounts.EventPasskeyRemoved, "")
	http.Redirect(w, r, "/settings/passkeys?done=removed", http.StatusSeeOther)
}

// passkeySignInOptions begins a passwordless sign-in.
func (p *Pages) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.readPasskeyForm(w, r, v, true, nil) {
		return
	}
	opts, err := p.Passkeys.BeginSignIn(r.Context(), v.state.Raw, clientip.From(r.Context()))
	p.writeOptions(w, r, opts, err)
}

// passkeySignIn finishes a passwordless sign-in and ends it as a password
// sign-in ends: a new session, a device token, the safe return_to.
func (p *Pages) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.Security.AllowPasskeys(w) // the sign-in page, shown again on an error, asks for a passkey
	data := page{Title: "Sign in", CSRF: v.csrf}
	if !p.readPasskeyForm(w, r, v, false, func() {
		data.ReturnTo = safeReturn(r.PostForm.Get("return_to"))
		data.Error = "Your form expired. Please sign in again."
		p.render(w, r, http.StatusForbidden, "signin.html", data)
	}) {
		return
	}
	data.ReturnTo = safeReturn(r.PostForm.Get("return_to"))
	out, err := p.Passkeys.FinishSignIn(r.Context(), v.state.Raw, []byte(r.PostForm.Get("credential")))
	if err != nil {
		msg, status, ok := passkeyMessage(err)
		if !ok {
			if errors.Is(err, store.ErrNotFound) {
				msg, status = sentence(passkeys.ErrRefused), http.StatusForbidden
			} else {
				p.fail(w, r, err)
				return
			}
		}
		data.Error = msg
		p.render(w, r, status, "signin.html", data)
		return
	}
	// A passkey with user verification is both factors: no second step.
	newBrowser := !p.Accounts.KnowsBrowser(p.Sessions.DeviceToken(r), out.Account.ID)
	p.completeSignIn(w, r, v, out.User, out.Device, newBrowser, data.ReturnTo)
}
