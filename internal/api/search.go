package api

import (
	"net/http"
	"strconv"

	"github.com/rampart-social/rampart/internal/social"
)

// Tag is Mastodon's Tag entity.
type Tag struct {
	Name      string       `json:"name"`
	URL       string       `json:"url"`
	History   []TagHistory `json:"history"`
	Following *bool        `json:"following,omitempty"`
}

func (a *API) search(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	typ := q.Get("type")
	if typ != "" && typ != "accounts" && typ != "hashtags" && typ != "statuses" {
		writeValidation(w, "type", "ERR_INCLUSION", "must be accounts, hashtags or statuses")
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	p := pageFrom(r, statusLimit)
	res, err := a.social.Search(r.Context(), viewerID(c), social.SearchParams{Query: q.Get("q"), Type: typ,
		Following: truthy(q.Get("following")), Limit: clampLimit(limit, statusLimit), Offset: max(offset, 0), Page: p,
		Resolve: truthy(q.Get("resolve"))})
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	accounts, err := a.renderAccounts(r.Context(), res.Accounts)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	statuses, err := a.renderStatuses(r.Context(), viewerID(c), res.Statuses)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	base := a.cfg.InstanceURL().String()
	tags := make([]Tag, 0, len(res.Tags))
	for _, t := range res.Tags {
		tags = append(tags, Tag{Name: t.Name, URL: base + "/tags/" + t.Name, History: []TagHistory{}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": accounts, "statuses": statuses, "hashtags": tags})
}
