package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// Followed hashtags through go-mastodon against the real binary: a post by
// someone alice does not follow, carrying a tag she follows, reaches her
// home timeline; a private one, or one by someone she blocks, does not; the
// followed list pages; after the unfollow new posts stay away. Featured
// tags, familiar followers and the directory, which the library has no
// calls for, are driven with its types and token over raw requests.
func TestMastodonClientLibraryTags(t *testing.T) {
	server := startQuickstartWithUsers(t, "alice", "bob", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "go-mastodon tags test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	alice := signInThroughBrowser(t, ctx, server, app, clientName, "alice")
	bob := signInThroughBrowser(t, ctx, server, app, clientName, "bob")
	carol := signInThroughBrowser(t, ctx, server, app, clientName, "carol")
	anon := mastodon.NewClient(&mastodon.Config{Server: server})
	me := func(c *mastodon.Client) *mastodon.Account {
		t.Helper()
		a, err := c.GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	meB, meC := me(bob), me(carol)
	home := func() []*mastodon.Status {
		t.Helper()
		l, err := alice.GetTimelineHome(ctx, &mastodon.Pagination{Limit: 40})
		if err != nil {
			t.Fatalf("GetTimelineHome: %v", err)
		}
		return l
	}
	post := func(c *mastodon.Client, text, vis string) *mastodon.Status {
		t.Helper()
		s, err := c.PostStatus(ctx, &mastodon.Toot{Status: text, Visibility: vis})
		if err != nil {
			t.Fatalf("PostStatus: %v", err)
		}
		return s
	}

	tag, err := alice.TagFollow(ctx, "RampartTags")
	if err != nil || tag.Name != "ramparttags" || !tag.Following || len(tag.History) != 7 || !strings.HasSuffix(tag.URL, "/tags/ramparttags") {
		t.Fatalf("TagFollow: %+v %v", tag, err)
	}
	if _, err := alice.AccountBlock(ctx, meC.ID); err != nil {
		t.Fatal(err)
	}
	shown := post(bob, "from someone alice does not follow #RampartTags", "public")
	private := post(bob, "followers only #ramparttags", "private")
	unlisted := post(bob, "unlisted #ramparttags", "unlisted")
	blocked := post(carol, "from someone alice blocks #ramparttags", "public")
	got := home()
	count := 0
	for _, s := range got {
		if s.ID == shown.ID {
			count++
		}
	}
	if count != 1 {
		t.Errorf("bob's tagged post is on alice's home timeline %d times, want once", count)
	}
	for _, s := range []*mastodon.Status{private, unlisted, blocked} {
		if hasStatus(got, s.ID) {
			t.Errorf("alice's home timeline shows %q", s.Content)
		}
	}
	info, err := anon.TagInfo(ctx, "ramparttags")
	if err != nil || info.Name != "ramparttags" || info.Following || len(info.History) != 7 || info.History[0].Uses != 2 || info.History[0].Accounts != 2 {
		t.Errorf("TagInfo: %+v %v; want today 2 public uses by 2 accounts", info, err)
	}

	// The followed list, newest first, paged through Link.
	for _, name := range []string{"second", "third"} {
		if _, err := alice.TagFollow(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	pg := &mastodon.Pagination{Limit: 2}
	first, err := alice.TagsFollowed(ctx, pg)
	if err != nil || len(first) != 2 || first[0].Name != "third" || first[1].Name != "second" || pg.MaxID == "" {
		t.Fatalf("TagsFollowed: %+v %v (next %q)", first, err, pg.MaxID)
	}
	rest, err := alice.TagsFollowed(ctx, &mastodon.Pagination{MaxID: pg.MaxID, Limit: 2})
	if err != nil || len(rest) != 1 || rest[0].Name != "ramparttags" || !rest[0].Following {
		t.Fatalf("TagsFollowed, next page: %+v %v", rest, err)
	}

	// After the unfollow, later posts stay away.
	un, err := alice.TagUnfollow(ctx, "ramparttags")
	if err != nil || un.Following {
		t.Fatalf("TagUnfollow: %+v %v", un, err)
	}
	later := post(bob, "after the unfollow #ramparttags", "public")
	if got := home(); hasStatus(got, later.ID) {
		t.Errorf("a post after the unfollow is on alice's home timeline")
	}
	if l, err := alice.TagsFollowed(ctx, nil); err != nil || len(l) != 2 {
		t.Errorf("TagsFollowed after the unfollow: %+v %v", l, err)
	}

	// Featured tags (raw: no call in the library).
	var ft struct {
		ID            string  `json:"id"`
		Name          string  `json:"name"`
		StatusesCount string  `json:"statuses_count"`
		LastStatusAt  *string `json:"last_status_at"`
	}
	if code := rawAPI(t, ctx, bob, http.MethodPost, "/api/v1/featured_tags", url.Values{"name": {"RampartTags"}}, &ft); code != 200 ||
		ft.Name != "ramparttags" || ft.StatusesCount != "3" || ft.LastStatusAt == nil {
		t.Errorf("POST /api/v1/featured_tags: %d %+v; want bob's 3 public and unlisted posts", code, ft)
	}
	var listed []json.RawMessage
	if code := rawAPI(t, ctx, anon, http.MethodGet, "/api/v1/accounts/"+string(meB.ID)+"/featured_tags", nil, &listed); code != 200 || len(listed) != 1 {
		t.Errorf("an account's featured tags: %d %s", code, listed)
	}
	if code := rawAPI(t, ctx, bob, http.MethodDelete, "/api/v1/featured_tags/"+ft.ID, nil, nil); code != 200 {
		t.Errorf("DELETE featured tag: %d", code)
	}

	// Familiar followers: alice follows bob, who follows carol.
	if _, err := alice.AccountFollow(ctx, meB.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AccountFollow(ctx, meC.ID); err != nil {
		t.Fatal(err)
	}
	var familiar []struct {
		ID       string              `json:"id"`
		Accounts []*mastodon.Account `json:"accounts"`
	}
	path := "/api/v1/accounts/familiar_followers?id[]=" + string(meC.ID)
	if code := rawAPI(t, ctx, alice, http.MethodGet, path, nil, &familiar); code != 200 || len(familiar) != 1 || len(familiar[0].Accounts) != 0 {
		t.Errorf("familiar followers of carol, whom alice blocks: %d %+v; want none", code, familiar)
	}
	if _, err := alice.AccountUnblock(ctx, meC.ID); err != nil {
		t.Fatal(err)
	}
	familiar = nil
	if code := rawAPI(t, ctx, alice, http.MethodGet, path, nil, &familiar); code != 200 ||
		len(familiar) != 1 || familiar[0].ID != string(meC.ID) || len(familiar[0].Accounts) != 1 || familiar[0].Accounts[0].ID != meB.ID {
		t.Errorf("familiar followers of carol: %d %+v", code, familiar)
	}

	// The directory, as the library's Account type reads it.
	if _, err := alice.AccountBlock(ctx, meC.ID); err != nil {
		t.Fatal(err)
	}
	var dir []*mastodon.Account
	if code := rawAPI(t, ctx, alice, http.MethodGet, "/api/v1/directory?order=new&local=true", nil, &dir); code != 200 {
		t.Fatalf("directory: %d", code)
	}
	// Newest first; alice blocks carol: she is not in alice's directory.
	var names []string
	for _, a := range dir {
		names = append(names, a.Username)
	}
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "bob alice") || strings.Contains(got, "carol") {
		t.Errorf("directory for alice: %v, want bob, alice (and the instance's earlier accounts), never carol", names)
	}
}
