package api

import (
	"net/http"
	"strconv"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// List is Mastodon's List entity.
type List struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	RepliesPolicy string `json:"replies_policy"`
	Exclusive     bool   `json:"exclusive"`
}

func listEntity(l *store.List) List {
	return List{ID: idString(l.ID), Title: l.Title, RepliesPolicy: l.RepliesPolicy, Exclusive: l.Exclusive}
}

func listEntities(ls []store.List) []List {
	out := make([]List, 0, len(ls))
	for i := range ls {
		out = append(out, listEntity(&ls[i]))
	}
	return out
}

// registerLists mounts lists and the list timeline, endorsements and the
// user's own domain blocks, with Mastodon's scopes.
func (a *API) registerLists(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/lists", a.auth(userToken, a.getLists, "read:lists"))
	mux.HandleFunc("POST /api/v1/lists", a.auth(userToken, a.createList, "write:lists"))
	mux.HandleFunc("GET /api/v1/lists/{id}", a.auth(userToken, a.getList, "read:lists"))
	mux.HandleFunc("PUT /api/v1/lists/{id}", a.auth(userToken, a.updateList, "write:lists"))
	mux.HandleFunc("DELETE /api/v1/lists/{id}", a.auth(userToken, a.deleteList, "write:lists"))
	mux.HandleFunc("GET /api/v1/lists/{id}/accounts", a.auth(userToken, a.listAccounts, "read:lists"))
	mux.HandleFunc("POST /api/v1/lists/{id}/accounts", a.auth(userToken, a.listMembers(true), "write:lists"))
	mux.HandleFunc("DELETE /api/v1/lists/{id}/accounts", a.auth(userToken, a.listMembers(false), "write:lists"))
	mux.HandleFunc("GET /api/v1/accounts/{id}/lists", a.auth(userToken, a.accountLists, "read:lists"))
	mux.HandleFunc("GET /api/v1/timelines/list/{id}", a.auth(userToken, a.listTimeline, "read:lists"))
	a.registerEndorsements(mux)
	a.registerDomainBlocks(mux)
}

func (a *API) getLists(w http.ResponseWriter, r *http.Request, c *Caller) {
	ls, err := a.social.Lists(r.Context(), c.Account.ID)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listEntities(ls))
}

func (a *API) getList(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	l, err := a.social.List(r.Context(), c.Account.ID, id)
	a.writeList(w, r, l, err)
}

func (a *API) writeList(w http.ResponseWriter, r *http.Request, l *store.List, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listEntity(l))
}

// listParams reads a list's title, replies_policy and exclusive.
func listParams(w http.ResponseWriter, r *http.Request) (social.ListParams, bool) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return social.ListParams{}, false
	}
	return social.ListParams{Title: optString(p, "title"), RepliesPolicy: optString(p, "replies_policy"), Exclusive: optBool(p, "exclusive")}, true
}

func (a *API) createList(w http.ResponseWriter, r *http.Request, c *Caller) {
	lp, ok := listParams(w, r)
	if !ok {
		return
	}
	l, err := a.social.CreateList(r.Context(), c.Account.ID, lp)
	a.writeList(w, r, l, err)
}

func (a *API) updateList(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	lp, ok := listParams(w, r)
	if !ok {
		return
	}
	l, err := a.social.UpdateList(r.Context(), c.Account.ID, id, lp)
	a.writeList(w, r, l, err)
}

func (a *API) deleteList(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if err := a.social.DeleteList(r.Context(), c.Account.ID, id); err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// listAccounts pages a list's members; limit=0 is all of them, unpaged,
// as Mastodon.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	all := r.URL.Query().Get("limit") == "0"
	p := pageFrom(r, accountsLimit)
	ids, cursors, err := a.social.ListAccounts(r.Context(), c.Account.ID, id, p, all)
	if all {
		cursors = nil // no Link: there is no other page
	}
	a.writeAccountList(w, r, p, ids, cursors, err)
}

// listMembers adds (add) or removes the accounts account_ids[] names.
func (a *API) listMembers(add bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		p, err := params(r)
		if err != nil {
			writeParamsError(w, err)
			return
		}
		var accounts []int64
		for _, v := range list(p, "account_ids") {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				writeError(w, http.StatusNotFound, "Record not found")
				return
			}
			accounts = append(accounts, n)
		}
		if add {
			err = a.social.AddToList(r.Context(), c.Account.ID, id, accounts)
		} else {
			err = a.social.RemoveFromList(r.Context(), c.Account.ID, id, accounts)
		}
		if err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

func (a *API) accountLists(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	ls, err := a.social.AccountLists(r.Context(), c.Account.ID, id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listEntities(ls))
}

func (a *API) listTimeline(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	p := pageFrom(r, statusLimit)
	ids, err := a.social.ListTimeline(r.Context(), c.Account.ID, id, p)
	a.writeTimeline(w, r, c, social.FilterHome, p, ids, ids, err)
}
