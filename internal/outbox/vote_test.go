package outbox

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// A local vote in a remote poll goes to the poll's author alone, as
// Mastodon sends it: per choice, a Create of a Note named after the
// option, in reply to the Question, attributed to the voter, addressed to
// the author only, delivered to the author's inbox; it is counted here at
// once and shown as the voter's.
func TestAVoteInARemotePollIsSentToItsAuthor(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now()
	alice := &store.Account{ID: ids.Next(), Username: "alice", URI: "https://example.test/users/alice", URL: "https://example.test/@alice",
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateLocalAccount(ctx, alice, &store.User{Email: "alice@example.test", PasswordHash: "x", Role: "user", Approved: true,
		Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	bob, err := st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{Username: "bob", Domain: "b.example",
		URI: "https://b.example/users/bob"}, InboxURL: "https://b.example/users/bob/inbox", SharedInboxURL: "https://b.example/inbox"}, ids.Next())
	if err != nil {
		t.Fatal(err)
	}
	q := &store.Status{ID: ids.Next(), URI: "https://b.example/users/bob/statuses/1", AccountID: bob, Visibility: store.Public,
		Content: "<p>Tea?</p>", CreatedAt: now}
	poll := &store.Poll{ID: ids.Next(), Multiple: true, ExpiresAt: now.Add(time.Hour).Truncate(time.Millisecond),
		Options: []store.PollOption{{Title: "Tea"}, {Title: "Coffee"}, {Title: "Water"}}}
	sid, _, err := st.CreateRemoteStatus(ctx, store.NewStatus{Status: q, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}

	svc := social.New(testutil.ProdConfig(t, t.TempDir()), st, ids, nil)
	got, err := svc.Vote(ctx, alice, poll.ID, []int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.OwnVotes, []int{0, 2}) || got.Options[0].VotesCount != 1 || got.Options[2].VotesCount != 1 {
		t.Errorf("the poll after the vote: %+v", got)
	}

	o := New(st, nil, nil, Renderer{}, log, nil)
	publishes, err := st.ClaimJobs(ctx, now.Add(time.Minute), time.Minute, 10, store.KindPublish)
	if err != nil || len(publishes) != 2 {
		t.Fatalf("publish jobs: %d, %v", len(publishes), err)
	}
	for _, j := range publishes {
		if err := o.Job(ctx, j.Payload); err != nil {
			t.Fatal(err)
		}
	}
	deliveries, err := st.ClaimJobs(ctx, now.Add(time.Minute), time.Minute, 10, store.KindDeliver)
	if err != nil || len(deliveries) != 2 {
		t.Fatalf("deliveries: %d, %v", len(deliveries), err)
	}
	var names []string
	for _, j := range deliveries {
		var d store.Delivery
		if err := json.Unmarshal(j.Payload, &d); err != nil {
			t.Fatal(err)
		}
		if d.Inbox != "https://b.example/users/bob/inbox" || d.Signer != alice.ID {
			t.Errorf("delivered to %s as %d; want bob's own inbox, as alice", d.Inbox, d.Signer)
		}
		var act struct {
			ID, Type, Actor string
			To              []string
			Cc              []string
			Object          struct {
				ID, Type, Name, AttributedTo, InReplyTo string
				To                                      []string
				Cc                                      []string
				Content                                 *string
			}
		}
		if err := json.Unmarshal(d.Activity, &act); err != nil {
			t.Fatal(err)
		}
		o := act.Object
		if act.Type != "Create" || act.Actor != alice.URI || !slices.Equal(act.To, []string{"https://b.example/users/bob"}) || act.Cc != nil ||
			o.Type != "Note" || o.AttributedTo != alice.URI || o.InReplyTo != q.URI || !slices.Equal(o.To, act.To) || o.Cc != nil ||
			o.Content != nil || act.ID != o.ID+"/activity" {
			t.Errorf("vote activity %s", d.Activity)
		}
		names = append(names, o.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Tea", "Water"}) {
		t.Errorf("votes sent for %v; want Tea and Water", names)
	}
	// A second vote is refused before anything is sent.
	if _, err := svc.Vote(ctx, alice, poll.ID, []int{1}); err == nil {
		t.Error("a second vote was taken")
	}
	if more, _ := st.ClaimJobs(ctx, now.Add(time.Minute), time.Minute, 10, store.KindPublish); len(more) != 0 {
		t.Errorf("a refused vote was sent: %d jobs", len(more))
	}
	_ = sid
}
