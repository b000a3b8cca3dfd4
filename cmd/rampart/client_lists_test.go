package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// Lists through a third-party client library against the real binary:
// create, add a followed account (not one that is not followed), read the
// list timeline (a member's post, not a non-member's), rename, remove,
// delete; then endorsements and a domain block, which the library reads
// but cannot make (raw requests with its token).
func TestMastodonClientLibraryLists(t *testing.T) {
	server := startQuickstartWithUsers(t, "alice", "bob", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "go-mastodon lists test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	alice := signInThroughBrowser(t, ctx, server, app, clientName, "alice")
	bob := signInThroughBrowser(t, ctx, server, app, clientName, "bob")
	carol := signInThroughBrowser(t, ctx, server, app, clientName, "carol")
	id := func(c *mastodon.Client) mastodon.ID {
		t.Helper()
		a, err := c.GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	aliceID, bobID, carolID := id(alice), id(bob), id(carol)
	for _, target := range []mastodon.ID{bobID, carolID} {
		if _, err := alice.AccountFollow(ctx, target); err != nil {
			t.Fatalf("AccountFollow: %v", err)
		}
	}

	list, err := alice.CreateList(ctx, "Friends")
	if err != nil || list.Title != "Friends" || list.ID == "" {
		t.Fatalf("CreateList: %+v %v", list, err)
	}
	if err := alice.AddToList(ctx, list.ID, bobID); err != nil {
		t.Fatalf("AddToList: %v", err)
	}
	// bob follows nobody: his list takes no one (422, as Mastodon).
	bobList, err := bob.CreateList(ctx, "bob's")
	if err != nil {
		t.Fatal(err)
	}
	wantAPIStatus(t, "adding an account not followed", bob.AddToList(ctx, bobList.ID, aliceID), http.StatusUnprocessableEntity)

	member, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "on the list", Visibility: "private"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := carol.PostStatus(ctx, &mastodon.Toot{Status: "not on the list"})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := alice.GetTimelineList(ctx, list.ID, &mastodon.Pagination{Limit: 40})
	if err != nil {
		t.Fatalf("GetTimelineList: %v", err)
	}
	if !hasStatus(tl, member.ID) || hasStatus(tl, other.ID) {
		t.Errorf("list timeline %v: want bob's %s and not carol's %s", statusIDs(tl), member.ID, other.ID)
	}
	// Someone else's list is not found.
	_, err = carol.GetTimelineList(ctx, list.ID, nil)
	wantAPIStatus(t, "another's list timeline", err, http.StatusNotFound)

	renamed, err := alice.RenameList(ctx, list.ID, "Close friends")
	if err != nil || renamed.Title != "Close friends" {
		t.Fatalf("RenameList: %+v %v", renamed, err)
	}
	if got, err := alice.GetList(ctx, list.ID); err != nil || got.Title != "Close friends" {
		t.Errorf("GetList: %+v %v", got, err)
	}
	if lists, err := alice.GetLists(ctx); err != nil || len(lists) != 1 || lists[0].ID != list.ID {
		t.Errorf("GetLists: %v %v", lists, err)
	}
	if lists, err := alice.GetAccountLists(ctx, bobID); err != nil || len(lists) != 1 || lists[0].ID != list.ID {
		t.Errorf("GetAccountLists: %v %v", lists, err)
	}
	if members, err := alice.GetListAccounts(ctx, list.ID); err != nil || !slices.Equal(accountIDs(members), []mastodon.ID{bobID}) {
		t.Errorf("GetListAccounts: %v %v", members, err)
	}

	if err := alice.RemoveFromList(ctx, list.ID, bobID); err != nil {
		t.Fatalf("RemoveFromList: %v", err)
	}
	if tl, err := alice.GetTimelineList(ctx, list.ID, nil); err != nil || len(tl) != 0 {
		t.Errorf("timeline of the emptied list: %v %v", statusIDs(tl), err)
	}
	if err := alice.DeleteList(ctx, list.ID); err != nil {
		t.Fatalf("DeleteList: %v", err)
	}
	_, err = alice.GetList(ctx, list.ID)
	wantAPIStatus(t, "the deleted list", err, http.StatusNotFound)

	// Endorsements: pinned with a raw request, read by the library.
	var rel mastodon.Relationship
	mustRaw(t, ctx, alice, http.MethodPost, "/api/v1/accounts/"+string(bobID)+"/pin", nil, &rel)
	if !rel.Endorsed {
		t.Errorf("pin: %+v", rel)
	}
	if es, err := alice.GetEndorsements(ctx, nil); err != nil || !slices.Equal(accountIDs(es), []mastodon.ID{bobID}) {
		t.Errorf("GetEndorsements: %v %v", es, err)
	}
	// A domain block, listed as strings.
	var empty map[string]any
	mustRaw(t, ctx, alice, http.MethodPost, "/api/v1/domain_blocks", url.Values{"domain": {"spam.example"}}, &empty)
	var domains []string
	mustRaw(t, ctx, alice, http.MethodGet, "/api/v1/domain_blocks", nil, &domains)
	if !slices.Equal(domains, []string{"spam.example"}) {
		t.Errorf("domain blocks %v", domains)
	}

	// Markers (no call in the library): where alice stopped reading home is
	// kept and read back, and moving it counts a version.
	type marker struct {
		LastReadID string `json:"last_read_id"`
		Version    int    `json:"version"`
	}
	var saved, moved, read map[string]marker
	mustRaw(t, ctx, alice, http.MethodPost, "/api/v1/markers", url.Values{"home[last_read_id]": {string(other.ID)}}, &saved)
	mustRaw(t, ctx, alice, http.MethodPost, "/api/v1/markers", url.Values{"home[last_read_id]": {string(member.ID)}}, &moved)
	mustRaw(t, ctx, alice, http.MethodGet, "/api/v1/markers?timeline[]=home&timeline[]=notifications", nil, &read)
	if h, ok := read["home"]; !ok || h.LastReadID != string(member.ID) || h.Version != saved["home"].Version+1 || moved["home"] != h {
		t.Errorf("markers: saved %+v, moved %+v, read %+v", saved, moved, read)
	}
	if _, ok := read["notifications"]; ok {
		t.Errorf("a notifications marker alice never saved: %+v", read)
	}
}
