package api

import (
	"context"
	"net/http"

	"github.com/rampart-social/rampart/internal/store"
)

// Conversation is Mastodon's Conversation entity.
type Conversation struct {
	ID         string    `json:"id"`
	Unread     bool      `json:"unread"`
	Accounts   []Account `json:"accounts"`
	LastStatus *Status   `json:"last_status"`
}

func (a *API) registerConversations(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/conversations", a.auth(userToken, a.listConversations, "read:statuses"))
	mux.HandleFunc("DELETE /api/v1/conversations/{id}", a.auth(userToken, a.deleteConversation, "write:conversations"))
	mux.HandleFunc("POST /api/v1/conversations/{id}/read", a.auth(userToken, a.readConversation, "write:conversations"))
}

// renderConversations builds the entities of a list with one load of all
// their statuses and accounts.
func (a *API) renderConversations(ctx context.Context, viewer int64, list []store.Conversation) ([]Conversation, error) {
	var statuses, accounts []int64
	for _, c := range list {
		statuses = append(statuses, c.LastStatusID)
		accounts = append(accounts, c.Participants...)
	}
	b, err := a.load(ctx, viewer, statuses, accounts)
	if err != nil {
		return nil, err
	}
	out := make([]Conversation, 0, len(list))
	for _, c := range list {
		e := Conversation{ID: idString(c.ID), Unread: c.Unread, Accounts: []Account{}}
		for _, id := range c.Participants {
			if acc, ok := b.accounts[id]; ok {
				e.Accounts = append(e.Accounts, a.accountFrom(b, acc))
			}
		}
		if st, ok := b.statuses[c.LastStatusID]; ok {
			if s, ok := a.statusFrom(b, st, viewer); ok {
				e.LastStatus = &s
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func (a *API) listConversations(w http.ResponseWriter, r *http.Request, c *Caller) {
	page := pageFrom(r, 40)
	list, err := a.social.Conversations(r.Context(), c.Account, page)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderConversations(r.Context(), c.Account.ID, list)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	cursors := make([]int64, len(list))
	for i, conv := range list {
		cursors[i] = conv.Cursor
	}
	a.setLink(w, r, page, cursors)
	writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteConversation(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if err := a.social.RemoveConversation(r.Context(), c.Account, id); err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (a *API) readConversation(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	conv, err := a.social.ReadConversation(r.Context(), c.Account, id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderConversations(r.Context(), c.Account.ID, []store.Conversation{*conv})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}
