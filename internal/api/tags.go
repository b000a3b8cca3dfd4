package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// TagHistory is Tag.history[]: numbers as strings, as Mastodon writes them.
type TagHistory struct {
	Day      string `json:"day"`
	Uses     string `json:"uses"`
	Accounts string `json:"accounts"`
}

// FeaturedTag is Mastodon's FeaturedTag entity as Mastodon serializes it:
// statuses_count a string and last_status_at a date (the documentation
// says an integer and a datetime; the server and the apps say otherwise).
type FeaturedTag struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	URL           string  `json:"url"`
	StatusesCount string  `json:"statuses_count"`
	LastStatusAt  *string `json:"last_status_at"`
}

// FamiliarFollowers is Mastodon's FamiliarFollowers entity.
type FamiliarFollowers struct {
	ID       string    `json:"id"`
	Accounts []Account `json:"accounts"`
}

// followedTagsLimit is Mastodon's page size for followed tags (and the
// largest it allows).
const followedTagsLimit = 100

func (a *API) registerTags(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/tags/{name}", a.auth(optional, a.getTag, "read:statuses", "read:follows"))
	mux.HandleFunc("POST /api/v1/tags/{name}/follow", a.auth(userToken, a.tagAction(a.social.FollowTag), "write:follows"))
	mux.HandleFunc("POST /api/v1/tags/{name}/unfollow", a.auth(userToken, a.tagAction(a.social.UnfollowTag), "write:follows"))
	mux.HandleFunc("GET /api/v1/followed_tags", a.auth(userToken, a.followedTags, "read:follows"))

	mux.HandleFunc("GET /api/v1/featured_tags", a.auth(userToken, a.ownFeaturedTags, "read:accounts"))
	mux.HandleFunc("POST /api/v1/featured_tags", a.auth(userToken, a.featureTag, "write:accounts"))
	mux.HandleFunc("DELETE /api/v1/featured_tags/{id}", a.auth(userToken, a.unfeatureTag, "write:accounts"))
	mux.HandleFunc("GET /api/v1/featured_tags/suggestions", a.auth(userToken, a.tagSuggestions, "read:accounts"))
	mux.HandleFunc("GET /api/v1/accounts/{id}/featured_tags", a.auth(optional, a.accountFeaturedTags, "read:accounts"))

	mux.HandleFunc("GET /api/v1/accounts/familiar_followers", a.auth(userToken, a.familiarFollowers, "read:follows"))
	mux.HandleFunc("GET /api/v1/directory", a.auth(optional, a.directory, "read:accounts"))
}

// tags renders tags with their week of history in one query; following is
// set for a signed-in viewer only (Mastodon leaves it out otherwise).
func (a *API) tags(r *http.Request, list []store.TagInfo, signedIn bool) ([]Tag, error) {
	ids := make([]int64, 0, len(list))
	for _, t := range list {
		ids = append(ids, t.ID)
	}
	hist, err := a.social.TagHistory(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	base := a.cfg.InstanceURL().String()
	out := make([]Tag, 0, len(list))
	for _, t := range list {
		e := Tag{Name: t.Name, URL: base + "/tags/" + url.PathEscape(t.Name), History: []TagHistory{}}
		for _, d := range hist[t.ID] {
			e.History = append(e.History, TagHistory{Day: strconv.FormatInt(d.Day/1000, 10),
				Uses: strconv.FormatInt(d.Uses, 10), Accounts: strconv.FormatInt(d.Accounts, 10)})
		}
		if signedIn {
			f := t.Following
			e.Following = &f
		}
		out = append(out, e)
	}
	return out, nil
}

func (a *API) writeTag(w http.ResponseWriter, r *http.Request, c *Caller, t *store.TagInfo, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.tags(r, []store.TagInfo{*t}, c.Account != nil)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

func (a *API) getTag(w http.ResponseWriter, r *http.Request, c *Caller) {
	t, err := a.social.Tag(r.Context(), viewerID(c), r.PathValue("name"))
	a.writeTag(w, r, c, t, err)
}

func (a *API) tagAction(do func(ctx context.Context, viewer *store.Account, name string) (*store.TagInfo, error)) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		t, err := do(r.Context(), c.Account, r.PathValue("name"))
		a.writeTag(w, r, c, t, err)
	}
}

func (a *API) followedTags(w http.ResponseWriter, r *http.Request, c *Caller) {
	p := pageFrom(r, followedTagsLimit)
	if r.URL.Query().Get("limit") == "" {
		p.Limit = followedTagsLimit
	}
	follows, err := a.social.FollowedTags(r.Context(), viewerID(c), p)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	list := make([]store.TagInfo, 0, len(follows))
	cursors := make([]int64, 0, len(follows))
	for _, f := range follows {
		list = append(list, store.TagInfo{Tag: f.Tag, Following: true})
		cursors = append(cursors, f.ID)
	}
	out, err := a.tags(r, list, true)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	a.setLink(w, r, p, cursors)
	writeJSON(w, http.StatusOK, out)
}

func (a *API) featuredTag(account *store.Account, f store.FeaturedTag) FeaturedTag {
	out := FeaturedTag{ID: idString(f.ID), Name: f.Tag.Name, StatusesCount: strconv.FormatInt(f.StatusesCount, 10),
		URL: a.cfg.InstanceURL().String() + "/@" + account.Username + "/tagged/" + url.PathEscape(f.Tag.Name)}
	if !f.LastStatusAt.IsZero() {
		d := f.LastStatusAt.UTC().Format("2006-01-02")
		out.LastStatusAt = &d
	}
	return out
}

func (a *API) writeFeaturedTags(w http.ResponseWriter, r *http.Request, account *store.Account, list []store.FeaturedTag, err error) {
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out := make([]FeaturedTag, 0, len(list))
	for _, f := range list {
		out = append(out, a.featuredTag(account, f))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) ownFeaturedTags(w http.ResponseWriter, r *http.Request, c *Caller) {
	list, err := a.social.FeaturedTags(r.Context(), c.Account.ID, c.Account.ID)
	a.writeFeaturedTags(w, r, c.Account, list, err)
}

func (a *API) accountFeaturedTags(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	acc, err := a.social.AccountFor(r.Context(), id)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	if acc.Domain != "" {
		// A remote account's featured tags are its server's: none known here.
		writeJSON(w, http.StatusOK, []FeaturedTag{})
		return
	}
	list, err := a.social.FeaturedTags(r.Context(), viewerID(c), id)
	a.writeFeaturedTags(w, r, acc, list, err)
}

func (a *API) featureTag(w http.ResponseWriter, r *http.Request, c *Caller) {
	p, err := params(r)
	if err != nil {
		writeParamsError(w, err)
		return
	}
	f, err := a.social.FeatureTag(r.Context(), c.Account, p.Get("name"))
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.featuredTag(c.Account, *f))
}

func (a *API) unfeatureTag(w http.ResponseWriter, r *http.Request, c *Caller) {
	id, ok := pathID(r, "id")
	if !ok {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	if err := a.social.UnfeatureTag(r.Context(), c.Account, id); err != nil {
		a.socialError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (a *API) tagSuggestions(w http.ResponseWriter, r *http.Request, c *Caller) {
	tags, err := a.social.TagSuggestions(r.Context(), c.Account.ID)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	list := make([]store.TagInfo, 0, len(tags))
	for _, t := range tags {
		list = append(list, store.TagInfo{Tag: t})
	}
	out, err := a.tags(r, list, false)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) familiarFollowers(w http.ResponseWriter, r *http.Request, c *Caller) {
	ids := idList(r, "id")
	if len(ids) > social.MaxFamiliarTargets {
		ids = ids[:social.MaxFamiliarTargets]
	}
	found, err := a.social.FamiliarFollowers(r.Context(), c.Account.ID, ids)
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	var all []int64
	for _, id := range ids {
		all = append(all, found[id]...)
	}
	b, err := a.load(r.Context(), 0, nil, all)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	out := make([]FamiliarFollowers, 0, len(ids))
	for _, id := range ids {
		e := FamiliarFollowers{ID: idString(id), Accounts: []Account{}}
		for _, acc := range found[id] {
			if x, ok := b.accounts[acc]; ok {
				e.Accounts = append(e.Accounts, a.accountFrom(b, x))
			}
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) directory(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = defaultFor(accountsLimit)
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	ids, err := a.social.Directory(r.Context(), viewerID(c), store.DirectoryFilter{LocalOnly: truthy(q.Get("local")),
		New: q.Get("order") == "new", Offset: offset, Limit: min(max(limit, 0), accountsLimit)})
	if err != nil {
		a.socialError(w, r, err)
		return
	}
	out, err := a.renderAccounts(r.Context(), ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
