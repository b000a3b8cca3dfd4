package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/session"
)

// authView is what the consent page shows and posts back.
type authView struct {
	AppName       string
	Website       string
	Scopes        []string
	ClientID      string
	RedirectURI   string
	Scope         string
	State         string
	CodeChallenge string
}

// authorizeParams are the request parameters the consent form carries.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"}

// oauthFailure answers an authorize error. Errors of the GET request are
// shown on our own page, never redirected: anyone can register an app with
// any redirect URI, so redirecting an error would make /oauth/authorize an
// open redirect (RFC 9700 §4.11.1). Errors after the consent form was posted
// go back to the client, which the signed-in person chose to use.
func (p *Pages) oauthFailure(w http.ResponseWriter, r *http.Request, req *oauth.AuthRequest, err error) {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		p.fail(w, r, err)
		return
	}
	if oe.Redirectable && req != nil && req.RedirectURI != oauth.OOB && r.Method == http.MethodPost {
		http.Redirect(w, r, oauth.RedirectURL(req, url.Values{"error": {oe.Code}, "error_description": {oe.Description}}), http.StatusFound)
		return
	}
	p.render(w, r, http.StatusBadRequest, "message.html", page{Title: "Authorization failed", Error: oe.Description + " (" + oe.Code + ")"})
}

// check validates the request; for redirectable errors the request itself
// (with client and redirect URI) is still returned so the error can go back.
func (p *Pages) check(r *http.Request, q url.Values) (*oauth.AuthRequest, error) {
	req, err := p.OAuth.CheckAuthorize(r.Context(), q)
	var oe *oauth.Error
	if errors.As(err, &oe) && oe.Redirectable {
		app, aerr := p.Store.AppByClientID(r.Context(), q.Get("client_id"))
		if aerr == nil {
			redirect := q.Get("redirect_uri")
			if redirect == "" {
				redirect = app.RedirectURIs[0]
			}
			return &oauth.AuthRequest{App: app, RedirectURI: redirect, State: q.Get("state")}, err
		}
	}
	return req, err
}

func (p *Pages) authorizeForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := p.check(r, q)
	if err != nil {
		p.oauthFailure(w, r, req, err)
		return
	}
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if v.account == nil || req.ForceLogin {
		// Sign in first, then come back here without force_login (else it would loop).
		back := url.Values{}
		for _, k := range authorizeParams {
			if q.Has(k) {
				back.Set(k, q.Get(k))
			}
		}
		http.Redirect(w, r, "/auth/sign_in?"+url.Values{"return_to": {"/oauth/authorize?" + back.Encode()}}.Encode(), http.StatusFound)
		return
	}
	if req.RedirectURI != oauth.OOB {
		p.Security.AllowFormTarget(w, req.RedirectURI)
	}
	p.render(w, r, http.StatusOK, "authorize.html", page{Title: "Authorize " + req.App.Name, CSRF: v.csrf, Account: v.account,
		Auth: &authView{AppName: req.App.Name, Website: req.App.Website, Scopes: req.Scopes.List(), ClientID: req.App.ClientID,
			RedirectURI: req.RedirectURI, Scope: req.Scopes.String(), State: req.State, CodeChallenge: req.CodeChallenge}})
}

func (p *Pages) authorize(w http.ResponseWriter, r *http.Request) {
	if !p.readForm(w, r) {
		return
	}
	v, err := p.load(r.Context(), w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.Sessions.CheckCSRF(v.state, r.PostForm.Get(session.CSRFField)) || v.account == nil {
		p.render(w, r, http.StatusForbidden, "message.html", page{Title: "Authorization failed",
			Error: "Your session or form expired. Please start again from the app."})
		return
	}
	req, err := p.check(r, r.PostForm)
	if err != nil {
		p.oauthFailure(w, r, req, err)
		return
	}
	if r.PostForm.Get("decision") != "approve" {
		if req.RedirectURI == oauth.OOB {
			p.render(w, r, http.StatusOK, "message.html", page{Title: "Authorization denied", Notice: "You denied " + req.App.Name + " access to your account."})
			return
		}
		http.Redirect(w, r, oauth.RedirectURL(req, url.Values{"error": {"access_denied"},
			"error_description": {"The resource owner denied the request."}}), http.StatusFound)
		return
	}
	code, err := p.OAuth.IssueCode(r.Context(), req, v.account.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if req.RedirectURI == oauth.OOB {
		p.render(w, r, http.StatusOK, "code.html", page{Title: "Authorization code", Account: v.account, Code: code,
			Auth: &authView{AppName: req.App.Name}})
		return
	}
	http.Redirect(w, r, oauth.RedirectURL(req, url.Values{"code": {code}}), http.StatusFound)
}
