package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/rampart-social/rampart/internal/clientip"
	"github.com/rampart-social/rampart/internal/oauth"
)

func (a *API) createApp(w http.ResponseWriter, r *http.Request) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	app, secret, err := a.oauth.RegisterAppFrom(r.Context(), clientip.From(r.Context()), oauth.AppParams{
		Name: p.Get("client_name"), Website: p.Get("website"), RedirectURIs: list(p, "redirect_uris"), Scopes: p.Get("scopes"),
	})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, application(app, secret))
}

func (a *API) verifyApp(w http.ResponseWriter, r *http.Request, c *Caller) {
	writeJSON(w, http.StatusOK, application(c.App, ""))
}

// oauthError answers RFC 6749's error shape, with Mastodon's "error" key.
func oauthError(w http.ResponseWriter, e *oauth.Error) {
	status := http.StatusBadRequest
	if e.Code == "invalid_client" {
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="rampart"`)
	}
	writeJSON(w, status, map[string]string{"error": e.Code, "error_description": e.Description})
}

// oauthFailure answers an OAuth error in RFC 6749's shape and anything else as a server error.
func (a *API) oauthFailure(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		oauthError(w, oe)
		return
	}
	a.serviceError(w, r, err)
}

// clientCredentials reads client_secret_basic or client_secret_post.
func clientCredentials(r *http.Request, p url.Values) (id, secret string) {
	if u, pw, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(pw)
		return id, secret
	}
	return p.Get("client_id"), p.Get("client_secret")
}

func (a *API) token(w http.ResponseWriter, r *http.Request) {
	p, err := params(r)
	if err != nil {
		oauthError(w, &oauth.Error{Code: "invalid_request", Description: err.Error()})
		return
	}
	id, secret := clientCredentials(r, p)
	issued, err := a.oauth.Exchange(r.Context(), oauth.TokenParams{
		GrantType: p.Get("grant_type"), Code: p.Get("code"), RedirectURI: p.Get("redirect_uri"),
		ClientID: id, ClientSecret: secret, CodeVerifier: p.Get("code_verifier"), Scope: p.Get("scope"),
	})
	if err != nil {
		a.oauthFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, token(issued))
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request) {
	p, err := params(r)
	if err != nil {
		oauthError(w, &oauth.Error{Code: "invalid_request", Description: err.Error()})
		return
	}
	id, secret := clientCredentials(r, p)
	err = a.oauth.Revoke(r.Context(), id, secret, p.Get("token"))
	if err != nil {
		a.oauthFailure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// oauthMetadata is RFC 8414's discovery document, as Mastodon 4.3 serves it.
func (a *API) oauthMetadata(w http.ResponseWriter, r *http.Request) {
	base := a.cfg.InstanceURL().String()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base + "/",
		"service_documentation":                 "https://docs.joinmastodon.org/",
		"authorization_endpoint":                base + "/oauth/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"revocation_endpoint":                   base + "/oauth/revoke",
		"app_registration_endpoint":             base + "/api/v1/apps",
		"scopes_supported":                      oauth.AllScopes(),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}
