package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// A poll through a third-party client library against the real binary:
// alice posts one (Toot.Poll), bob reads it (GetPoll) and votes (PollVote),
// the results count his vote and a second vote is refused. Then its end:
// the shortest poll Mastodon allows lasts 5 minutes, too long to wait in a
// test, so the test does what time would do and nothing else: it moves the
// poll's end, and the run time of the job that was committed with the
// status for that end, to a moment ago, through a route of the test build
// (/test/polls/{id}/end), on whichever database the server runs. The
// running server's job runner then claims that durable job, as it would
// at the real end, and its handler tells bob and alice ("poll"
// notifications, read through the library), and the poll reads expired.
func TestMastodonClientLibraryPolls(t *testing.T) {
	server := startQuickstartWithUsers(t, "alice", "bob")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const clientName = "go-mastodon polls test"
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

	st, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "Tea or coffee?", Visibility: "public",
		Poll: &mastodon.TootPoll{Options: []string{"Tea", "Coffee", "Neither"}, ExpiresInSeconds: 300}})
	if err != nil {
		t.Fatalf("PostStatus with a poll: %v", err)
	}
	if st.Poll == nil || len(st.Poll.Options) != 3 || st.Poll.Options[1].Title != "Coffee" || st.Poll.Expired || st.Poll.Multiple ||
		st.Poll.ExpiresAt.Sub(time.Now()) < 4*time.Minute || st.Poll.ExpiresAt.Sub(time.Now()) > 5*time.Minute {
		t.Fatalf("the posted status's poll: %+v", st.Poll)
	}
	pollID := st.Poll.ID

	p, err := bob.GetPoll(ctx, pollID)
	if err != nil || p.Voted || len(p.OwnVotes) != 0 || p.VotesCount != 0 {
		t.Fatalf("GetPoll before voting: %+v %v", p, err)
	}
	p, err = bob.PollVote(ctx, pollID, 1)
	if err != nil {
		t.Fatalf("PollVote: %v", err)
	}
	if !p.Voted || len(p.OwnVotes) != 1 || p.OwnVotes[0] != 1 || p.VotesCount != 1 || p.VotersCount != 1 || p.Options[1].VotesCount != 1 {
		t.Errorf("the poll after bob's vote: %+v", p)
	}
	_, err = bob.PollVote(ctx, pollID, 0)
	wantAPIStatus(t, "a second vote", err, 422)
	_, err = alice.PollVote(ctx, pollID, 0)
	wantAPIStatus(t, "a vote in one's own poll", err, 422)
	if s, err := alice.GetStatus(ctx, st.ID); err != nil || s.Poll == nil || s.Poll.Options[1].VotesCount != 1 || !s.Poll.Voted {
		t.Errorf("the status as its author reads it: %+v %v", s, err)
	}

	pollNotes := func(c *mastodon.Client) []*mastodon.Notification {
		t.Helper()
		var out []*mastodon.Notification
		ns, err := c.GetNotifications(ctx, nil)
		if err != nil {
			t.Fatalf("GetNotifications: %v", err)
		}
		for _, n := range ns {
			if n.Type == "poll" {
				out = append(out, n)
			}
		}
		return out
	}
	if n := pollNotes(bob); len(n) != 0 {
		t.Fatalf("poll notifications before the end: %v", n)
	}

	// Time passes: the poll's end and its job's due time move to a
	// moment ago (the job row is the one the post committed, not a new one).
	if code, body := apiCall(t, http.MethodPost, server, "", "/test/polls/"+string(pollID)+"/end"); code != http.StatusOK {
		t.Fatalf("moving the poll's end: %d %s", code, body)
	}

	// The runner looks for due jobs every second.
	deadline := time.Now().Add(30 * time.Second)
	for len(pollNotes(bob)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for who, c := range map[string]*mastodon.Client{"bob": bob, "alice": alice} {
		ns := pollNotes(c)
		if len(ns) != 1 {
			t.Errorf("%s has %d poll notifications, want 1", who, len(ns))
			continue
		}
		if ns[0].Account.ID != meA.ID || ns[0].Status == nil || ns[0].Status.ID != st.ID || ns[0].Status.Poll == nil || !ns[0].Status.Poll.Expired {
			t.Errorf("%s's poll notification: %+v", who, ns[0])
		}
	}
	// The job is done once it told them: there is no poll.expire job left
	// for the route to move.
	if code, body := apiCall(t, http.MethodPost, server, "", "/test/polls/"+string(pollID)+"/end"); code != http.StatusNotFound {
		t.Errorf("moving the ended poll's job: %d %s, want 404 (the job is gone)", code, body)
	}
	p, err = bob.GetPoll(ctx, pollID)
	if err != nil || !p.Expired || p.Options[1].VotesCount != 1 {
		t.Errorf("GetPoll after the end: %+v %v", p, err)
	}
	_, err = bob.PollVote(ctx, pollID, 0)
	wantAPIStatus(t, "a vote after the end", err, 422)
	if err == nil || !strings.Contains(err.Error(), "The poll has already ended") {
		t.Errorf("a vote after the end: %v", err)
	}
}
