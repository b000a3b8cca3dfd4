package api

import (
	"net/http"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// Announcement is Mastodon's Announcement entity. Its list needs a user
// token, so read and reactions' me are always known.
type Announcement struct {
	ID          string        `json:"id"`
	Content     string        `json:"content"`
	StartsAt    *string       `json:"starts_at"`
	EndsAt      *string       `json:"ends_at"`
	AllDay      bool          `json:"all_day"`
	PublishedAt string        `json:"published_at"`
	UpdatedAt   string        `json:"updated_at"`
	Read        bool          `json:"read"`
	Mentions    []Mention     `json:"mentions"`
	Statuses    []struct{}    `json:"statuses"`
	Tags        []TagRef      `json:"tags"`
	Emojis      []CustomEmoji `json:"emojis"`
	Reactions   []Reaction    `json:"reactions"`
}

// Reaction is Mastodon's Reaction entity: url and static_url only for a
// custom emoji.
type Reaction struct {
	Name      string  `json:"name"`
	Count     int64   `json:"count"`
	Me        bool    `json:"me"`
	URL       *string `json:"url,omitempty"`
	StaticURL *string `json:"static_url,omitempty"`
}

// Scopes as Mastodon's: listing needs "read" itself (there is no
// read:announcements), dismissing write:accounts, reacting write:favourites.
func (a *API) registerAnnouncements(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/announcements", a.auth(userToken, a.announcements, "read"))
	mux.HandleFunc("POST /api/v1/announcements/{id}/dismiss", a.auth(userToken, a.announcementAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.DismissAnnouncement(r.Context(), c.Account.ID, id)
	}), "write:accounts"))
	mux.HandleFunc("PUT /api/v1/announcements/{id}/reactions/{name}", a.auth(userToken, a.announcementAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.ReactToAnnouncement(r.Context(), c.Account.ID, id, r.PathValue("name"))
	}), "write:favourites"))
	mux.HandleFunc("DELETE /api/v1/announcements/{id}/reactions/{name}", a.auth(userToken, a.announcementAction(func(r *http.Request, c *Caller, id int64) error {
		return a.social.UnreactToAnnouncement(r.Context(), c.Account.ID, id, r.PathValue("name"))
	}), "write:favourites"))
}

// announcementAction answers an action on one announcement with Mastodon's empty object.
func (a *API) announcementAction(do func(*http.Request, *Caller, int64) error) func(http.ResponseWriter, *http.Request, *Caller) {
	return func(w http.ResponseWriter, r *http.Request, c *Caller) {
		id, ok := pathID(r, "id")
		if !ok {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		if err := do(r, c, id); err != nil {
			a.socialError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

// announcements lists the current announcements in a fixed number of
// queries: the list, the viewer's dismissals, the reactions, the mentioned
// accounts and the custom emojis of texts and reactions.
func (a *API) announcements(w http.ResponseWriter, r *http.Request, c *Caller) {
	ctx := r.Context()
	list, err := a.social.Announcements(ctx)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	ids := make([]int64, 0, len(list))
	var mentioned []int64
	for _, an := range list {
		ids = append(ids, an.ID)
		mentioned = append(mentioned, an.MentionIDs...)
	}
	read, err := a.store.DismissedAnnouncements(ctx, c.Account.ID, ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	reactions, err := a.store.AnnouncementReactions(ctx, c.Account.ID, ids)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	accs := map[int64]*store.Account{}
	if len(mentioned) > 0 {
		if accs, err = a.store.AccountsByIDs(ctx, mentioned); err != nil {
			a.serviceError(w, r, err)
			return
		}
	}
	codes := make([][]string, len(list))
	var all []string
	for i, an := range list {
		codes[i] = text.Shortcodes(an.Text)
		all = append(all, codes[i]...)
		for _, re := range reactions[an.ID] {
			if text.IsShortcode(re.Name) {
				all = append(all, re.Name)
			}
		}
	}
	emojis, err := a.store.CustomEmojisNamed(ctx, all)
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	base := a.cfg.InstanceURL().String()
	out := make([]Announcement, 0, len(list))
	for i := range list {
		an := &list[i]
		e := Announcement{ID: idString(an.ID), Content: an.Content, AllDay: an.AllDay, PublishedAt: timestamp(an.PublishedAt),
			UpdatedAt: timestamp(an.UpdatedAt), Read: read[an.ID], Mentions: []Mention{}, Statuses: []struct{}{}, Tags: []TagRef{},
			Emojis: a.emojisIn(emojis, codes[i]), Reactions: []Reaction{}}
		if !an.StartsAt.IsZero() {
			s := timestamp(an.StartsAt)
			e.StartsAt = &s
		}
		if !an.EndsAt.IsZero() {
			s := timestamp(an.EndsAt)
			e.EndsAt = &s
		}
		for _, id := range an.MentionIDs {
			if acc, ok := accs[id]; ok {
				m := a.account(acc)
				e.Mentions = append(e.Mentions, Mention{ID: m.ID, Username: m.Username, URL: m.URL, Acct: m.Acct})
			}
		}
		for _, t := range an.Tags {
			e.Tags = append(e.Tags, TagRef{Name: t, URL: base + "/tags/" + t})
		}
		for _, re := range reactions[an.ID] {
			rx := Reaction{Name: re.Name, Count: re.Count, Me: re.Me}
			if em, ok := emojis[re.Name]; ok {
				ce := a.customEmoji(&em, false)
				rx.URL, rx.StaticURL = &ce.URL, &ce.StaticURL
			}
			e.Reactions = append(e.Reactions, rx)
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, out)
}
