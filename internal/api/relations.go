package api

import (
	"net/http"
	"strconv"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Relationship is Mastodon's Relationship entity.
type Relationship struct {
	ID                  string   `json:"id"`
	Following           bool     `json:"following"`
	ShowingReblogs      bool     `json:"showing_reblogs"`
	Notifying           bool     `json:"notifying"`
	Languages           []string `json:"languages"`
	FollowedBy          bool     `json:"followed_by"`
	Blocking            bool     `json:"blocking"`
	BlockedBy           bool     `json:"blocked_by"`
	Muting              bool     `json:"muting"`
	MutingNotifications bool     `json:"muting_notifications"`
	Requested           bool     `json:"requested"`
	RequestedBy         bool     `json:"requested_by"`
	DomainBlocking      bool     `json:"domain_blocking"`
	Endorsed            bool     `json:"endorsed"`
	Note                string   `json:"note"`
}

func relationship(id int64, r store.Relationship) Relationship {
	return Relationship{ID: idString(id), Following: r.Following, ShowingReblogs: r.Following && r.ShowingReblogs, Notifying: r.Notifying,
		Languages: nil, FollowedBy: r.FollowedBy, Blocking: r.Blocking, BlockedBy: r.BlockedBy, Muting: r.Muting,
		MutingNotifications: r.Muting && r.MutingNotifications, Requested: r.Requested, RequestedBy: r.RequestedBy, Note: r.Note,
		DomainBlocking: r.DomainBlocking, Endorsed: r.Endorsed}
}

func (a *API) writeRelationship(w http.ResponseWriter, r *http.Request, c *Caller, target int64, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	rels, err := a.social.Relationships(r.Context(), c.Account.ID, []int64{target})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, relationship(target, rels[target]))
}

// relationAction runs POST /api/v1/accounts/:id/<action> and answers the Relationship.
func (a *API) relationAction(do func(r *http.Request, c *Caller, id int64) error) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		a.writeRelationship(w, r, c, id, do(r, c, id))
	}
}

func (a *API) follow(r *http.Request, c *Caller, id int64) error {
	p, err := params(r)
	if err != nil {
		return paramsFailure(err)
	}
	// Following again without options keeps the ones set before.
	o := social.FollowOptions{ShowReblogs: true}
	if rels, err := a.social.Relationships(r.Context(), c.Account.ID, []int64{id}); err == nil && rels[id].Following {
		o = social.FollowOptions{ShowReblogs: rels[id].ShowingReblogs, Notify: rels[id].Notifying}
	}
	if v := optBool(p, "reblogs"); v != nil {
		o.ShowReblogs = *v
	}
	if v := optBool(p, "notify"); v != nil {
		o.Notify = *v
	}
	return a.social.Follow(r.Context(), c.Account, id, o)
}

func (a *API) mute(r *http.Request, c *Caller, id int64) error {
	p, err := params(r)
	if err != nil {
		return paramsFailure(err)
	}
	notifications := true
	if v := optBool(p, "notifications"); v != nil {
		notifications = *v
	}
	return a.social.Mute(r.Context(), c.Account, id, notifications)
}

func (a *API) relationships(w http.ResponseWriter, r *http.Request, c *Caller) {
	ids := idList(r, "id")
	if len(ids) > accountsLimit {
		ids = ids[:accountsLimit]
	}
	rels, err := a.social.Relationships(r.Context(), c.Account.ID, ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	out := make([]Relationship, 0, len(ids))
	for _, id := range ids {
		out = append(out, relationship(id, rels[id]))
	}
	writeJSON(w, http.StatusOK, out)
}

// relatedAccounts serves followers, following, follow requests, blocks and mutes.
func (a *API) relatedAccounts(rel store.Relation, incoming, own bool) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		account := viewerID(c)
		if !own {
			id, ok := pathID(r, "id")
			if !ok {
				writeError(w, http.StatusNotFound, "Record not found")
				return
			}
			account = id
		}
		p := pageFrom(r, accountsLimit)
		ids, cursors, err := a.social.Related(r.Context(), rel, account, incoming, viewerID(c), p)
		a.writeAccountList(w, r, p, ids, cursors, err)
	}
}

func (a *API) searchAccounts(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	res, err := a.social.Search(r.Context(), viewerID(c), social.SearchParams{Query: q.Get("q"), Type: "accounts",
		Following: truthy(q.Get("following")), Limit: clampLimit(limit, accountsLimit), Offset: max(offset, 0)})
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	out, err := a.renderAccounts(r.Context(), res.Accounts)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func clampLimit(n, max int) int {
	if n <= 0 {
		return defaultLimit
	}
	return min(n, max)
}
