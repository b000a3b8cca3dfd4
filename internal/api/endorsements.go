package api

import "net/http"

// registerEndorsements mounts Mastodon's account pins (endorsements).
func (a *API) registerEndorsements(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/accounts/{id}/pin", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.Endorse(r.Context(), c.Account, id)
	}), "write:accounts"))
	mux.HandleFunc("POST /api/v1/accounts/{id}/unpin", a.auth(userToken, a.relationAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.Unendorse(r.Context(), c.Account, id)
	}), "write:accounts"))
	mux.HandleFunc("GET /api/v1/endorsements", a.auth(userToken, a.endorsements, "read:accounts"))
}

func (a *API) endorsements(w http.ResponseWriter, r *http.Request, c *Caller) {
	p := pageFrom(r, accountsLimit)
	ids, cursors, err := a.social.Endorsements(r.Context(), c.Account.ID, p)
	a.writeAccountList(w, r, p, ids, cursors, err)
}
