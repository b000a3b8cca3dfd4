package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/oauth"
	"github.com/rampart-social/rampart/internal/store"
)

// Caller is who a request acts as.
type Caller struct {
	Token   *store.Token
	Scopes  oauth.Scopes
	App     *store.App
	Account *store.Account // nil for app-only (client_credentials) tokens
	User    *store.User
	Stats   *store.AccountStats // the account's counters, read with it
}

type tokenKind int

const (
	anyToken  tokenKind = iota // an app token is enough
	userToken                  // the token must act for a user
	optional                   // anonymous callers are welcome; a token, if sent, must be valid
)

// bearer extracts the access token from the Authorization header or the
// access_token parameter.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") { // the scheme is case-insensitive (RFC 7235)
			return strings.TrimSpace(h[7:])
		}
		return ""
	}
	return strings.TrimSpace(r.URL.Query().Get("access_token"))
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="rampart", error="invalid_token", error_description="`+msg+`"`)
	writeError(w, http.StatusUnauthorized, msg)
}

// auth wraps h: it needs a valid token granting any one of scopes; a user
// token for userToken routes. Every scope check of the API goes through here.
func (a *API) auth(kind tokenKind, h func(http.ResponseWriter, *http.Request, *Caller), scopes ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw := bearer(r)
		if raw == "" && kind == optional {
			h(w, r, &Caller{})
			return
		}
		if raw == "" {
			unauthorized(w, "The access token is invalid")
			return
		}
		tok, app, lu, err := a.lookUpBearer(r, raw)
		if errors.Is(err, oauth.ErrInvalidToken) {
			unauthorized(w, "The access token is invalid")
			return
		}
		if err != nil {
			a.serviceError(w, r, err)
			return
		}
		granted, _ := oauth.ParseScopes(tok.Scopes)
		if !granted.AllowsAny(scopes...) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart", error="insufficient_scope", scope="`+strings.Join(scopes, " ")+`"`)
			writeError(w, http.StatusForbidden, "This action is outside the authorized scopes")
			return
		}
		c := &Caller{Token: tok, Scopes: granted, App: app}
		if lu != nil {
			if err := accounts.Usable(lu.User); err != nil {
				writeError(w, http.StatusForbidden, "Your login is currently disabled: "+err.Error())
				return
			}
			c.Account, c.User, c.Stats = lu.Account, lu.User, &lu.Stats
		} else if kind == userToken {
			writeError(w, http.StatusUnprocessableEntity, "This method requires an authenticated user")
			return
		}
		h(w, r, c)
	}
}
