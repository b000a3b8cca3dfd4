package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/session"
)

// The sessions-and-apps page (/settings/sessions) and the security history
// (/settings/history). The rules — whose sessions and tokens these are,
// what revoking does, what the history keeps — are accounts.(*Service)'s
// (accounts/security.go); these handlers only read forms and show lists.

// securityView is what the two pages show.
type securityView struct {
	Sessions []sessionRow
	Apps     []appRow
	Events   []eventRow
}

type sessionRow struct {
	ID, Browser, Network, Created, LastSeen string
	Current                                 bool
}

type appRow struct {
	ID, Name, Website, Scopes, Created, LastUsed string
}

type eventRow struct {
	What, When, Network, Browser, Detail string
}

// when is how the pages write a time: UTC, to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func (p *Pages) sessionsPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.requireAccount(w, r, "/settings/sessions")
	if !ok {
		return
	}
	p.renderSessions(w, r, v, http.StatusOK, "", "")
}

func (p *Pages) renderSessions(w http.ResponseWriter, r *http.Request, v *visitor, status int, notice, problem string) {
	ctx := r.Context()
	sessions, err := p.Accounts.Sessions(ctx, v.account.ID, v.state.Session.IDHash)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	apps, err := p.Accounts.AuthorizedApps(ctx, v.account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	view := &securityView{}
	for _, s := range sessions {
		view.Sessions = append(view.Sessions, sessionRow{ID: s.ID, Browser: s.Browser, Network: s.Network,
			Created: when(s.CreatedAt), LastSeen: when(s.LastSeenAt), Current: s.Current})
	}
	for _, a := range apps {
		view.Apps = append(view.Apps, appRow{ID: strconv.FormatInt(a.App.ID, 10), Name: a.App.Name, Website: a.App.Website,
			Scopes: strings.Join(a.Scopes, " "), Created: when(a.CreatedAt), LastUsed: when(a.LastUsedAt)})
	}
	p.render(w, r, status, "settings_sessions.html", page{Title: "Sessions and apps", CSRF: v.csrf, Account: v.account,
		Settings: "sessions", Notice: notice, Error: problem, NoIndex: true, Security: view})
}

// revokeForm reads a POSTed revoke form: ok is false when it answered
// already (not signed in, unreadable form, bad CSRF token).
func (p *Pages) revokeForm(w http.ResponseWriter, r *http.Request) (*visitor, bool) {
	v, ok := p.requireAccount(w, r, "/settings/sessions")
	if !ok || !p.readForm(w, r) {
		return nil, false
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) {
		p.renderSessions(w, r, v, http.StatusForbidden, "", "Your form expired. Please try again.")
		return nil, false
	}
	return v, true
}

func actor(r *http.Request) accounts.Actor {
	return accounts.Actor{ClientIP: clientip.From(r.Context()), UserAgent: r.UserAgent()}
}

// revokeDone answers a revocation: back to the page, or 404 for what is not
// the account's (nothing was revoked).
func (p *Pages) revokeDone(w http.ResponseWriter, r *http.Request, v *visitor, err error) {
	switch {
	case errors.Is(err, accounts.ErrNotYours):
		p.renderSessions(w, r, v, http.StatusNotFound, "", "There is no such session or app on this account.")
	case err != nil:
		p.fail(w, r, err)
	default:
		http.Redirect(w, r, "/settings/sessions", http.StatusSeeOther)
	}
}

func (p *Pages) revokeSession(w http.ResponseWriter, r *http.Request) {
	v, ok := p.revokeForm(w, r)
	if !ok {
		return
	}
	p.revokeDone(w, r, v, p.Accounts.RevokeSession(r.Context(), v.account.ID, r.PostForm.Get("session"), actor(r)))
}

func (p *Pages) revokeOtherSessions(w http.ResponseWriter, r *http.Request) {
	v, ok := p.revokeForm(w, r)
	if !ok {
		return
	}
	_, err := p.Accounts.RevokeOtherSessions(r.Context(), v.account.ID, v.state.Session.IDHash, actor(r))
	p.revokeDone(w, r, v, err)
}

func (p *Pages) revokeApp(w http.ResponseWriter, r *http.Request) {
	v, ok := p.revokeForm(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("app"), 10, 64)
	if err != nil || id <= 0 {
		p.revokeDone(w, r, v, accounts.ErrNotYours)
		return
	}
	p.revokeDone(w, r, v, p.Accounts.RevokeApp(r.Context(), v.account.ID, id, actor(r)))
}

func (p *Pages) historyPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.requireAccount(w, r, "/settings/history")
	if !ok {
		return
	}
	events, err := p.Accounts.SecurityHistory(r.Context(), v.account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	view := &securityView{}
	for _, e := range events {
		view.Events = append(view.Events, eventRow{What: e.Kind.Words(), When: when(e.At), Network: e.Network,
			Browser: e.Browser, Detail: e.Detail})
	}
	p.render(w, r, http.StatusOK, "settings_history.html", page{Title: "Security history", CSRF: v.csrf, Account: v.account,
		Settings: "history", NoIndex: true, Security: view})
}

// recordSecurityEvent adds kind to the signed-in person's security history
// after a change they made on a settings page. The change has happened:
// failing to write the history is logged, never shown as the change failing.
func (p *Pages) recordSecurityEvent(r *http.Request, accountID int64, kind accounts.SecurityEventKind, detail string) {
	if err := p.Accounts.RecordSecurityEvent(r.Context(), accountID, kind, clientip.From(r.Context()), r.UserAgent(), detail); err != nil {
		p.Log.Warn("recording a security event", "account", accountID, "kind", string(kind), "err", err)
	}
}
