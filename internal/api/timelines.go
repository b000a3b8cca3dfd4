package api

import (
	"net/http"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

func (a *API) homeTimeline(w http.ResponseWriter, r *http.Request, c *Caller) {
	p := pageFrom(r, statusLimit)
	ids, err := a.social.Home(r.Context(), viewerID(c), p)
	a.writeTimeline(w, r, c, social.FilterHome, p, ids, ids, err)
}

func (a *API) publicTimeline(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	p := pageFrom(r, statusLimit)
	ids, err := a.social.Public(r.Context(), viewerID(c), store.PublicFilter{LocalOnly: truthy(q.Get("local")),
		RemoteOnly: truthy(q.Get("remote")), OnlyMedia: truthy(q.Get("only_media"))}, p)
	a.writeTimeline(w, r, c, social.FilterPublic, p, ids, ids, err)
}

func (a *API) tagTimeline(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	p := pageFrom(r, statusLimit)
	ids, err := a.social.Public(r.Context(), viewerID(c), store.PublicFilter{Tag: r.PathValue("hashtag"), LocalOnly: truthy(q.Get("local")),
		RemoteOnly: truthy(q.Get("remote")), OnlyMedia: truthy(q.Get("only_media"))}, p)
	a.writeTimeline(w, r, c, social.FilterPublic, p, ids, ids, err)
}

func (a *API) markedStatuses(m store.Mark) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		p := pageFrom(r, statusLimit)
		ids, cursors, err := a.social.Marked(r.Context(), viewerID(c), m, p)
		a.writeStatusList(w, r, c, p, ids, cursors, err)
	}
}

func (a *API) accountStatuses(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	q := r.URL.Query()
	p := pageFrom(r, statusLimit)
	ids, err := a.social.AccountStatuses(r.Context(), viewerID(c), id, store.AccountFilter{Pinned: truthy(q.Get("pinned")),
		ExcludeReplies: truthy(q.Get("exclude_replies")), ExcludeReblogs: truthy(q.Get("exclude_reblogs")),
		OnlyMedia: truthy(q.Get("only_media")), Tag: q.Get("tagged")}, p)
	a.writeTimeline(w, r, c, social.FilterAccount, p, ids, ids, err)
}
