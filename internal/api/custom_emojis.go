package api

import (
	"net/http"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/text"
)

// CustomEmoji is Mastodon's CustomEmoji entity. category is left out when
// the emoji has none, as Mastodon does.
type CustomEmoji struct {
	Shortcode       string `json:"shortcode"`
	URL             string `json:"url"`
	StaticURL       string `json:"static_url"`
	VisibleInPicker bool   `json:"visible_in_picker"`
	Category        string `json:"category,omitempty"`
}

// registerEmojisAndAnnouncements mounts the custom emoji and announcement routes.
func (a *API) registerEmojisAndAnnouncements(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/custom_emojis", a.customEmojis)
	a.registerAnnouncements(mux)
}

func (a *API) customEmoji(e *store.CustomEmoji, withCategory bool) CustomEmoji {
	out := CustomEmoji{Shortcode: e.Shortcode, VisibleInPicker: e.VisibleInPicker}
	if u := a.mediaURL(e.FileKey); u != nil {
		out.URL = *u
	}
	if u := a.mediaURL(e.StaticKey); u != nil {
		out.StaticURL = *u
	}
	if withCategory {
		out.Category = e.Category
	}
	return out
}

// customEmojis lists the instance's custom emojis; no token needed.
func (a *API) customEmojis(w http.ResponseWriter, r *http.Request) {
	list, err := a.store.CustomEmojis(r.Context())
	if err != nil {
		a.serviceError(w, r, err)
		return
	}
	out := make([]CustomEmoji, 0, len(list))
	for i := range list {
		out = append(out, a.customEmoji(&list[i], true))
	}
	writeJSON(w, http.StatusOK, out)
}

// emojisIn are the custom emojis of found that texts use as :shortcode:.
func (a *API) emojisIn(found map[string]store.CustomEmoji, codes []string) []CustomEmoji {
	out := []CustomEmoji{}
	for _, c := range codes {
		if e, ok := found[c]; ok {
			out = append(out, a.customEmoji(&e, false))
		}
	}
	return out
}

// statusShortcodes are the :shortcode: uses of a local status's text: a
// remote one's name its own server's emojis, not ours.
func statusShortcodes(st *store.Status) []string {
	if !st.Local || st.ReblogOfID != 0 {
		return nil
	}
	return text.Shortcodes(st.SpoilerText, st.Text)
}
