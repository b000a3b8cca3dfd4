package api

import "net/http"

// registerDomainBlocks mounts the user's own domain blocks (Mastodon's
// /api/v1/domain_blocks), not the admin's.
func (a *API) registerDomainBlocks(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/domain_blocks", a.auth(userToken, a.domainBlocks, "read:blocks"))
	mux.HandleFunc("POST /api/v1/domain_blocks", a.auth(userToken, a.domainBlock(true), "write:blocks"))
	mux.HandleFunc("DELETE /api/v1/domain_blocks", a.auth(userToken, a.domainBlock(false), "write:blocks"))
}

// domainBlocks pages the blocked domains: an array of strings, with Link.
func (a *API) domainBlocks(w http.ResponseWriter, r *http.Request, c *Caller) {
	p := pageFrom(r, accountsLimit)
	domains, cursors, err := a.social.DomainBlocksOf(r.Context(), c.Account.ID, p)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	if domains == nil {
		domains = []string{}
	}
	a.setLink(w, r, p, cursors)
	writeJSON(w, http.StatusOK, domains)
}

// domainBlock blocks (or unblocks) the domain a body or query names, and
// answers {} as Mastodon.
func (a *API) domainBlock(block bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		p, err := params(r)
		if err != nil {
			writeParamsError(w, err)
			return
		}
		if block {
			err = a.social.BlockDomainFor(r.Context(), c.Account, p.Get("domain"))
		} else {
			err = a.social.UnblockDomainFor(r.Context(), c.Account.ID, p.Get("domain"))
		}
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	}
}
