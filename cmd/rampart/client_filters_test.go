package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// v2Call makes a v2 filter request go-mastodon has no call for, with the
// library's token, and decodes the answer into out (nil: none).
func v2Call(t *testing.T, c *mastodon.Client, method, path string, form url.Values, out any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.Config.Server+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Config.AccessToken)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// Filters through a third-party client library against the real binary:
// a v1 filter made irreversible hides a followed account's matching post
// from the home timeline (and a mention of it from the notifications);
// changed to warn, the post is back carrying filtered; a v2 filter (a raw
// call: the library has none) warns too; deleted, the post is back plain.
func TestMastodonClientLibraryFilters(t *testing.T) {
	server := startQuickstartWithUsers(t, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "go-mastodon filters test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	alice := signInThroughBrowser(t, ctx, server, app, clientName, "alice")
	bob := signInThroughBrowser(t, ctx, server, app, clientName, "bob")
	meB, err := bob.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.AccountFollow(ctx, meB.ID); err != nil {
		t.Fatalf("AccountFollow: %v", err)
	}
	spoiler, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "Spoilers: the Finale ends at sea", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "Nothing to see here", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	mention, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "@alice did you watch the finale?", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	home := func() []*mastodon.Status {
		t.Helper()
		l, err := alice.GetTimelineHome(ctx, &mastodon.Pagination{Limit: 40})
		if err != nil {
			t.Fatalf("GetTimelineHome: %v", err)
		}
		return l
	}
	find := func(l []*mastodon.Status, id mastodon.ID) *mastodon.Status {
		for _, s := range l {
			if s.ID == id {
				return s
			}
		}
		return nil
	}
	mentioned := func() bool {
		t.Helper()
		ns, err := alice.GetNotifications(ctx, nil)
		if err != nil {
			t.Fatalf("GetNotifications: %v", err)
		}
		for _, n := range ns {
			if n.Type == "mention" && n.Status != nil && n.Status.ID == mention.ID {
				return true
			}
		}
		return false
	}
	if h := home(); !hasStatus(h, spoiler.ID) || !hasStatus(h, plain.ID) || !mentioned() {
		t.Fatalf("before any filter: home %v, mentioned %v", statusIDs(h), mentioned())
	}

	f, err := alice.CreateFilter(ctx, &mastodon.Filter{Phrase: "finale", Context: []string{"home", "notifications"}, Irreversible: true})
	if err != nil {
		t.Fatalf("CreateFilter: %v", err)
	}
	if f.Phrase != "finale" || !f.Irreversible || !f.WholeWord || len(f.Context) != 2 {
		t.Errorf("the filter: %+v", f)
	}
	if h := home(); hasStatus(h, spoiler.ID) || !hasStatus(h, plain.ID) {
		t.Errorf("home with an irreversible filter: %v", statusIDs(h))
	}
	if mentioned() {
		t.Error("the mention matching the filter is still among the notifications")
	}
	list, err := alice.GetFilters(ctx)
	if err != nil || len(list) != 1 || list[0].ID != f.ID {
		t.Fatalf("GetFilters: %+v, %v", list, err)
	}
	if got, err := alice.GetFilter(ctx, f.ID); err != nil || got.Phrase != "finale" {
		t.Errorf("GetFilter: %+v, %v", got, err)
	}
	if _, err := bob.GetFilter(ctx, f.ID); err == nil {
		t.Error("bob read alice's filter")
	} else {
		wantAPIStatus(t, "bob's GetFilter", err, http.StatusNotFound)
	}

	// Warn instead: the post is back, filtered.
	f, err = alice.UpdateFilter(ctx, f.ID, &mastodon.Filter{Phrase: "finale", Context: []string{"home"}, Irreversible: false, WholeWord: true})
	if err != nil || f.Irreversible {
		t.Fatalf("UpdateFilter: %+v, %v", f, err)
	}
	st := find(home(), spoiler.ID)
	if st == nil {
		t.Fatal("the warned post is not at home")
	}
	if len(st.Filtered) != 1 || st.Filtered[0].Filter.Title != "finale" || st.Filtered[0].Filter.FilterAction != "warn" ||
		len(st.Filtered[0].KeywordMatches) != 1 || st.Filtered[0].KeywordMatches[0] != "finale" {
		t.Errorf("filtered: %+v", st.Filtered)
	}
	if st := find(home(), plain.ID); st == nil || len(st.Filtered) != 0 {
		t.Errorf("the plain post: %+v", st)
	}
	if !mentioned() {
		t.Error("the mention is still hidden with the filter in home only")
	}

	// A v2 filter, with keywords_attributes: warns on the plain post.
	var v2 struct {
		ID           string   `json:"id"`
		Title        string   `json:"title"`
		FilterAction string   `json:"filter_action"`
		Context      []string `json:"context"`
		Keywords     []struct {
			Keyword string `json:"keyword"`
		} `json:"keywords"`
	}
	v2Call(t, alice, http.MethodPost, "/api/v2/filters", url.Values{"title": {"Quiet"}, "context[]": {"home"}, "filter_action": {"warn"},
		"keywords_attributes[][keyword]": {"nothing"}, "keywords_attributes[][whole_word]": {"true"}}, &v2)
	if v2.Title != "Quiet" || v2.FilterAction != "warn" || len(v2.Keywords) != 1 {
		t.Errorf("the v2 filter: %+v", v2)
	}
	if st := find(home(), plain.ID); st == nil || len(st.Filtered) != 1 || st.Filtered[0].Filter.ID != v2.ID {
		t.Errorf("the plain post under the v2 filter: %+v", st)
	}
	v2Call(t, alice, http.MethodDelete, "/api/v2/filters/"+v2.ID, nil, nil)

	// Deleted: the post is back, plain.
	if err := alice.DeleteFilter(ctx, f.ID); err != nil {
		t.Fatalf("DeleteFilter: %v", err)
	}
	h := home()
	for _, id := range []mastodon.ID{spoiler.ID, plain.ID} {
		if st := find(h, id); st == nil || len(st.Filtered) != 0 {
			t.Errorf("after DeleteFilter, %s: %+v", id, st)
		}
	}
	if list, err := alice.GetFilters(ctx); err != nil || len(list) != 0 {
		t.Errorf("GetFilters after deleting: %+v, %v", list, err)
	}
}
