package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/rampart-social/rampart/internal/testutil"
)

// Through a Mastodon client library against the real binary: a status
// scheduled with ScheduledAt is listed, cancelled, or published by the job
// path at its time into its followers' home timelines; a direct status
// makes a conversation; delete & re-draft reuses the upload.
func TestMastodonClientLibraryScheduledConversationsRedraft(t *testing.T) {
	server := startQuickstartWithUsers(t, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "go-mastodon scheduled test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	alice := signInThroughBrowser(t, ctx, server, app, clientName, "alice")
	bob := signInThroughBrowser(t, ctx, server, app, clientName, "bob")
	meA, err := alice.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AccountFollow(ctx, meA.ID); err != nil {
		t.Fatalf("AccountFollow: %v", err)
	}

	// Scheduled: the answer is a ScheduledStatus (the library decodes it
	// into its Status, params included).
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	sc, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "from an hour ago", Visibility: "public", ScheduledAt: &at})
	if err != nil {
		t.Fatalf("PostStatus with ScheduledAt: %v", err)
	}
	if sc.ScheduledParams.Text != "from an hour ago" || sc.ScheduledParams.Visibility != "public" || sc.Content != "" {
		t.Fatalf("the scheduled answer: %+v", sc)
	}
	soon := time.Now().Add(time.Minute)
	if _, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "too soon", ScheduledAt: &soon}); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("a minute ahead: %v, want 422", err)
	}
	other, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "never", ScheduledAt: &at})
	if err != nil {
		t.Fatal(err)
	}
	var list []*mastodon.Status
	if code := rawAPI(t, ctx, alice, http.MethodGet, "/api/v1/scheduled_statuses", nil, &list); code != 200 || len(list) != 2 ||
		list[0].ID != other.ID || list[1].ID != sc.ID {
		t.Fatalf("GET /api/v1/scheduled_statuses: %d %v", code, statusIDs(list))
	}
	if code := rawAPI(t, ctx, alice, http.MethodDelete, "/api/v1/scheduled_statuses/"+string(other.ID), nil, nil); code != 200 {
		t.Fatalf("cancel: %d", code)
	}
	if code := rawAPI(t, ctx, bob, http.MethodDelete, "/api/v1/scheduled_statuses/"+string(sc.ID), nil, nil); code != 404 {
		t.Errorf("bob cancels alice's: %d", code)
	}
	// Its time comes: the test route moves it to now, and the job runner
	// (polling each second) publishes it.
	resp, err := http.Post(server+"/test/scheduled_statuses/"+string(sc.ID)+"/due", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("making it due: %v %v", resp, err)
	}
	resp.Body.Close()
	var published *mastodon.Status
	for published == nil {
		home, err := bob.GetTimelineHome(ctx, &mastodon.Pagination{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range home {
			if s.Account.ID == meA.ID && strings.Contains(s.Content, "from an hour ago") {
				published = s
			}
		}
		if published == nil {
			select {
			case <-ctx.Done():
				t.Fatal("the scheduled status never reached bob's home timeline")
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if published.ID == sc.ID || published.Visibility != "public" {
		t.Errorf("published: %+v", published)
	}
	if code := rawAPI(t, ctx, alice, http.MethodGet, "/api/v1/scheduled_statuses", nil, &list); code != 200 || len(list) != 0 {
		t.Errorf("still scheduled after publishing: %d %v", code, statusIDs(list))
	}

	// A direct status: bob's conversation, unread, then read, then removed.
	meB, err := bob.GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "@bob between us", Visibility: "direct"})
	if err != nil {
		t.Fatal(err)
	}
	convs, err := bob.GetConversations(ctx, nil)
	if err != nil || len(convs) != 1 || !convs[0].Unread || convs[0].LastStatus == nil || convs[0].LastStatus.ID != dm.ID ||
		len(convs[0].Accounts) != 1 || convs[0].Accounts[0].ID != meA.ID {
		t.Fatalf("GetConversations: %v %+v", err, convs)
	}
	if err := bob.MarkConversationAsRead(ctx, convs[0].ID); err != nil {
		t.Fatalf("MarkConversationAsRead: %v", err)
	}
	mine, err := alice.GetConversations(ctx, nil)
	if err != nil || len(mine) != 1 || mine[0].Unread || len(mine[0].Accounts) != 1 || mine[0].Accounts[0].ID != meB.ID {
		t.Errorf("alice's: %v %+v", err, mine)
	}
	if convs, _ = bob.GetConversations(ctx, nil); len(convs) != 1 || convs[0].Unread {
		t.Errorf("after reading: %+v", convs)
	}
	if err := bob.DeleteConversation(ctx, convs[0].ID); err != nil {
		t.Fatalf("DeleteConversation: %v", err)
	}
	if convs, _ = bob.GetConversations(ctx, nil); len(convs) != 0 {
		t.Errorf("after removing: %+v", convs)
	}

	// Delete & re-draft: the deleted status answers with its text and
	// upload (go-mastodon's DeleteStatus drops the answer: read raw), and
	// the same upload goes into the new post, its file served.
	att, err := alice.UploadMediaFromMedia(ctx, &mastodon.Media{File: bytes.NewReader(testutil.GradientPNG(t, 16, 16)), Description: "kept"})
	if err != nil {
		t.Fatalf("UploadMediaFromMedia: %v", err)
	}
	first, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "draft one", MediaIDs: []mastodon.ID{att.ID}, Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	var deleted mastodon.Status
	var withText struct {
		Text string `json:"text"`
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, server+"/api/v1/statuses/"+string(first.ID), nil)
	req.Header.Set("Authorization", "Bearer "+alice.Config.AccessToken)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil || dresp.StatusCode != 200 {
		t.Fatalf("delete: %v %v", dresp, err)
	}
	body, _ := io.ReadAll(dresp.Body)
	dresp.Body.Close()
	json.Unmarshal(body, &deleted)
	json.Unmarshal(body, &withText)
	if withText.Text != "draft one" || len(deleted.MediaAttachments) != 1 || deleted.MediaAttachments[0].ID != att.ID {
		t.Fatalf("the deleted status: text %q, attachments %+v", withText.Text, deleted.MediaAttachments)
	}
	if _, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "stolen", MediaIDs: []mastodon.ID{att.ID}}); err == nil {
		t.Error("bob attached alice's upload")
	}
	again, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "draft two", MediaIDs: []mastodon.ID{att.ID}, Visibility: "public"})
	if err != nil {
		t.Fatalf("the redraft: %v", err)
	}
	if len(again.MediaAttachments) != 1 || again.MediaAttachments[0].ID != att.ID || again.MediaAttachments[0].URL != att.URL {
		t.Fatalf("the redraft's attachments: %+v", again.MediaAttachments)
	}
	fresp, err := http.Get(att.URL)
	if err != nil {
		t.Fatal(err)
	}
	fresp.Body.Close()
	if fresp.StatusCode != 200 || fresp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("the redraft's file: %d %s", fresp.StatusCode, fresp.Header.Get("Content-Type"))
	}
}
