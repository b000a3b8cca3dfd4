package api

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// addEmoji stores a custom emoji with fixed keys (the media pipeline is
// internal/emoji's test; here only the entity matters).
func (e *env) addEmoji(t *testing.T, code, category string, animated bool) {
	t.Helper()
	file, static, ctype := "emoji/"+code+".png", "emoji/"+code+".png", "image/png"
	if animated {
		file, ctype = "emoji/"+code+".gif", "image/gif"
	}
	if err := e.st.CreateCustomEmoji(context.Background(), &store.CustomEmoji{ID: time.Now().UnixNano(), Shortcode: code, FileKey: file,
		StaticKey: static, ContentType: ctype, Category: category, VisibleInPicker: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// The custom emoji list needs no token; a local status that uses
// :shortcode: of one lists it in emojis (spoiler first, each once, unknown
// ones not), its reblog's wrapper does not, and neither does a timeline
// render differ from the status's own.
func TestCustomEmojiEntities(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	f.addEmoji(t, "blob_cat", "Blobs", false)
	f.addEmoji(t, "party", "", true)

	list := f.get(t, "", "/api/v1/custom_emojis")
	checkSocialContract(t, "custom_emojis", list)
	f.golden(t, "custom_emojis", list)
	if again := f.get(t, f.bobTok, "/api/v1/custom_emojis"); f.diff(list, again) != "" {
		t.Errorf("with a token: %s", f.diff(list, again))
	}

	id := f.postStatus(t, f.aliceTok, "STATUS_EMOJI", url.Values{"status": {"hello :blob_cat: :nope: :blob_cat:"},
		"spoiler_text": {"a :party:"}, "visibility": {"public"}})
	st := f.get(t, f.aliceTok, "/api/v1/statuses/"+id)
	emojis, _ := lookup(st, "emojis")
	f.golden(t, "status_emojis", emojis)
	rb := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/statuses/"+id+"/reblog", nil)
	if l, _ := lookup(rb, "emojis"); len(l.([]any)) != 0 {
		t.Errorf("the reblog's wrapper has emojis %v", l)
	}
	if l, _ := lookup(rb, "reblog", "emojis"); f.diff(l, emojis) != "" {
		t.Errorf("the reblogged status's emojis: %s", f.diff(l, emojis))
	}
	home := asList(t, f.get(t, f.aliceTok, "/api/v1/timelines/home"))
	if l, _ := lookup(home[0], "emojis"); f.diff(l, emojis) != "" {
		t.Errorf("in the home timeline: %s", f.diff(l, emojis))
	}
	plain := f.postStatus(t, f.aliceTok, "STATUS_PLAIN", url.Values{"status": {"no emoji here: 12:30:45"}})
	if l, _ := lookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+plain), "emojis"); len(l.([]any)) != 0 {
		t.Errorf("emojis %v in a status without any", l)
	}
}

// newAnnouncement publishes an announcement through the service the API uses.
func (f *socialFixture) newAnnouncement(t *testing.T, placeholder string, p social.NewAnnouncement) string {
	t.Helper()
	a, err := f.api.social.AddAnnouncement(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	id := idString(a.ID)
	f.name(id, placeholder)
	return id
}

// The announcement entity, per viewer: read after a dismissal, reactions
// tallied with me, a custom emoji reaction with its URLs, mentions, tags
// and the emojis of the text.
func TestAnnouncementEntity(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	f.addEmoji(t, "blob_cat", "Blobs", false)
	starts := time.Date(2099, 1, 1, 20, 0, 0, 0, time.UTC)
	id := f.newAnnouncement(t, "ANNOUNCEMENT", social.NewAnnouncement{Text: "Maintenance <tonight> :blob_cat: @bob #News",
		StartsAt: starts, EndsAt: starts.Add(2 * time.Hour), AllDay: false})
	plain := f.newAnnouncement(t, "ANNOUNCEMENT_PLAIN", social.NewAnnouncement{Text: "Welcome!"})

	// Tallied in order of first use (names in the same millisecond by name:
	// this order is both).
	f.okJSON(t, f.bobTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/blob_cat", nil)
	f.okJSON(t, f.bobTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape("👍"), nil)
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape("👍"), nil)
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape("👍"), nil) // again: no change
	if v := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/announcements/"+id+"/dismiss", nil); f.diff(v, map[string]any{}) != "" {
		t.Errorf("dismiss answered %v, want {}", v)
	}

	dates := func(v any) any {
		for _, a := range v.([]any) {
			a.(map[string]any)["published_at"], a.(map[string]any)["updated_at"] = "<DATE>", "<DATE>"
		}
		return v
	}
	forAlice := f.get(t, f.aliceTok, "/api/v1/announcements")
	checkSocialContract(t, "announcements", forAlice)
	f.golden(t, "announcements_alice", dates(forAlice))
	forBob := f.get(t, f.bobTok, "/api/v1/announcements")
	f.golden(t, "announcements_bob", dates(forBob))

	// Order: by start, else publication: the plain one (published now) first.
	if l := asList(t, forBob); len(l) != 2 || mustLookup(l[0], "id") != plain {
		t.Errorf("order: %v", l)
	}
	f.okJSON(t, f.bobTok, http.MethodDelete, "/api/v1/announcements/"+id+"/reactions/blob_cat", nil)
	f.okJSON(t, f.bobTok, http.MethodDelete, "/api/v1/announcements/"+id+"/reactions/blob_cat", nil) // again: no change
	l := asList(t, f.get(t, f.bobTok, "/api/v1/announcements"))
	if rs, _ := lookup(l[1], "reactions"); len(rs.([]any)) != 1 {
		t.Errorf("reactions after bob took blob_cat back: %v", rs)
	}
}

// Reactions take a Unicode emoji or a local custom emoji's shortcode, and
// refuse anything else with Mastodon's 422; unknown and ended
// announcements are 404 and not listed.
func TestAnnouncementReactionsAndRefusals(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	f.addEmoji(t, "blob_cat", "", false)
	id := f.newAnnouncement(t, "ANNOUNCEMENT", social.NewAnnouncement{Text: "hi"})
	for _, name := range []string{"nope", "Blob_Cat", "<b>x</b>", "a b", "👍x"} {
		rec := f.call(t, f.bobTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape(name), nil)
		v := wantJSON(t, rec, http.StatusUnprocessableEntity)
		if _, ok := lookup(v, "details", "name"); !ok {
			t.Errorf("%q: %v, want details on name", name, v)
		}
	}
	// Eight different names, then a ninth is refused; a known one still counts.
	for _, name := range []string{"👍", "🎉", "❤️", "😂", "😮", "😢", "🙏", "blob_cat"} {
		f.okJSON(t, f.bobTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape(name), nil)
	}
	wantJSON(t, f.call(t, f.aliceTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape("🔥"), nil), http.StatusUnprocessableEntity)
	f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape("🎉"), nil)

	for _, target := range []string{"/api/v1/announcements/999/dismiss", "/api/v1/announcements/x/dismiss"} {
		if rec := f.call(t, f.bobTok, http.MethodPost, target, nil); rec.Code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", target, rec.Code)
		}
	}
	if rec := f.call(t, f.bobTok, http.MethodPut, "/api/v1/announcements/999/reactions/"+url.PathEscape("👍"), nil); rec.Code != http.StatusNotFound {
		t.Errorf("react to no announcement: %d, want 404", rec.Code)
	}
	// One that ends in a moment: listed, then neither listed nor usable.
	a, err := f.api.social.AddAnnouncement(context.Background(), social.NewAnnouncement{Text: "brief", EndsAt: time.Now().Add(50 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/announcements")); len(l) != 2 {
		t.Fatalf("%d announcements, want 2", len(l))
	}
	for time.Now().Before(a.EndsAt) {
		time.Sleep(10 * time.Millisecond)
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/announcements")); len(l) != 1 {
		t.Errorf("an ended announcement is listed: %v", l)
	}
	if rec := f.call(t, f.bobTok, http.MethodPost, "/api/v1/announcements/"+idString(a.ID)+"/dismiss", nil); rec.Code != http.StatusNotFound {
		t.Errorf("dismiss an ended one: %d, want 404", rec.Code)
	}
}

// Scopes as Mastodon's: the list needs "read" and a user, dismissing
// write:accounts, reacting write:favourites; custom emojis need nothing.
func TestAnnouncementScopes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	id := f.newAnnouncement(t, "ANNOUNCEMENT", social.NewAnnouncement{Text: "hi"})
	react := "/api/v1/announcements/" + id + "/reactions/" + url.PathEscape("👍")
	for _, c := range []struct {
		scope, method, target string
		want                  int
	}{
		{"read", http.MethodGet, "/api/v1/announcements", http.StatusOK},
		{"read:statuses read:accounts", http.MethodGet, "/api/v1/announcements", http.StatusForbidden},
		{"write", http.MethodGet, "/api/v1/announcements", http.StatusForbidden},
		{"write:accounts", http.MethodPost, "/api/v1/announcements/" + id + "/dismiss", http.StatusOK},
		{"write:favourites", http.MethodPost, "/api/v1/announcements/" + id + "/dismiss", http.StatusForbidden},
		{"read", http.MethodPost, "/api/v1/announcements/" + id + "/dismiss", http.StatusForbidden},
		{"write:favourites", http.MethodPut, react, http.StatusOK},
		{"write:favourites", http.MethodDelete, react, http.StatusOK},
		{"write:accounts", http.MethodPut, react, http.StatusForbidden},
		{"write:statuses", http.MethodDelete, react, http.StatusForbidden},
		{"write", http.MethodPut, react, http.StatusOK},
	} {
		tok := f.userToken(t, f.bob, c.scope)
		if rec := f.call(t, tok, c.method, c.target, nil); rec.Code != c.want {
			t.Errorf("%s %s with %q: %d, want %d", c.method, c.target, c.scope, rec.Code, c.want)
		}
	}
	for _, c := range []struct{ method, target string }{
		{http.MethodGet, "/api/v1/announcements"}, {http.MethodPost, "/api/v1/announcements/" + id + "/dismiss"}, {http.MethodPut, react},
	} {
		if rec := f.call(t, "", c.method, c.target, nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", c.method, c.target, rec.Code)
		}
	}
	if rec := f.call(t, "", http.MethodGet, "/api/v1/custom_emojis", nil); rec.Code != http.StatusOK {
		t.Errorf("custom emojis without a token: %d", rec.Code)
	}
}
