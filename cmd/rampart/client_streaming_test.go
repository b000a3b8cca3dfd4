package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
)

// The streaming API through the third-party client library go-mastodon:
// its WebSocket client (NewWSClient) and its server-sent events functions
// subscribe to the user, public, local and hashtag streams, and receive
// what others do through the REST API as it happens.

// streamDeadline bounds every wait for an event, only so that a missing
// event fails the test instead of hanging it.
const streamDeadline = 30 * time.Second

// liveStream is one stream opened with go-mastodon, the events it
// delivered read into events by a goroutine of the test.
type liveStream struct {
	name   string
	events chan mastodon.Event
	// seen is every event taken from events so far, in order.
	seen []mastodon.Event
}

// openLive starts one of go-mastodon's streaming calls; the stream ends at
// cleanup.
func openLive(t *testing.T, name string, start func(context.Context) (chan mastodon.Event, error)) *liveStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := start(ctx)
	if err != nil {
		cancel()
		t.Fatalf("%s: %v", name, err)
	}
	s := &liveStream{name: name, events: make(chan mastodon.Event, 1024)}
	done := make(chan struct{})
	go func() {
		// go-mastodon's channel is unbuffered and its goroutine waits on
		// every send, so it is drained to the end, after cleanup too.
		defer close(s.events)
		for e := range ch {
			select {
			case s.events <- e:
			case <-done:
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		cancel()
	})
	return s
}

// describe names an event for failure messages.
func describe(e mastodon.Event) string {
	switch e := e.(type) {
	case *mastodon.UpdateEvent:
		return "update " + string(e.Status.ID)
	case *mastodon.UpdateEditEvent:
		return "status.update " + string(e.Status.ID)
	case *mastodon.DeleteEvent:
		return "delete " + string(e.ID)
	case *mastodon.NotificationEvent:
		s := "notification " + e.Notification.Type + " from " + string(e.Notification.Account.ID)
		if e.Notification.Status != nil {
			s += " on " + string(e.Notification.Status.ID)
		}
		return s
	case *mastodon.ErrorEvent:
		return "error: " + e.Error()
	}
	return fmt.Sprintf("%T", e)
}

func (s *liveStream) history() string {
	if len(s.seen) == 0 {
		return "nothing"
	}
	var out []string
	for _, e := range s.seen {
		out = append(out, describe(e))
	}
	return strings.Join(out, "; ")
}

// next waits up to d for an event that matches (among those delivered
// already, or a new one).
func (s *liveStream) next(d time.Duration, match func(mastodon.Event) bool) (mastodon.Event, bool) {
	for _, e := range s.seen {
		if match(e) {
			return e, true
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				return nil, false
			}
			s.seen = append(s.seen, e)
			if match(e) {
				return e, true
			}
		case <-timer.C:
			return nil, false
		}
	}
}

// waitFor fails the test unless an event that matches arrives.
func (s *liveStream) waitFor(t *testing.T, what string, match func(mastodon.Event) bool) mastodon.Event {
	t.Helper()
	e, ok := s.next(streamDeadline, match)
	if !ok {
		t.Fatalf("%s: no %s within %s (or the stream ended); it delivered: %s", s.name, what, streamDeadline, s.history())
	}
	return e
}

// update waits for the new status id.
func (s *liveStream) update(t *testing.T, id mastodon.ID) *mastodon.Status {
	t.Helper()
	return s.waitFor(t, "update of "+string(id), func(e mastodon.Event) bool {
		u, ok := e.(*mastodon.UpdateEvent)
		return ok && u.Status.ID == id
	}).(*mastodon.UpdateEvent).Status
}

// edit waits for status id's edit (go-mastodon's UpdateEditEvent).
func (s *liveStream) edit(t *testing.T, id mastodon.ID) *mastodon.Status {
	t.Helper()
	return s.waitFor(t, "status.update of "+string(id), func(e mastodon.Event) bool {
		u, ok := e.(*mastodon.UpdateEditEvent)
		return ok && u.Status.ID == id
	}).(*mastodon.UpdateEditEvent).Status
}

// deleted waits for status id's deletion.
func (s *liveStream) deleted(t *testing.T, id mastodon.ID) {
	t.Helper()
	s.waitFor(t, "delete of "+string(id), func(e mastodon.Event) bool {
		d, ok := e.(*mastodon.DeleteEvent)
		return ok && d.ID == id
	})
}

// notification waits for a notification of type typ about status id.
func (s *liveStream) notification(t *testing.T, typ string, id mastodon.ID) *mastodon.Notification {
	t.Helper()
	return s.waitFor(t, typ+" notification on "+string(id), func(e mastodon.Event) bool {
		n, ok := e.(*mastodon.NotificationEvent)
		return ok && n.Notification.Type == typ && n.Notification.Status != nil && n.Notification.Status.ID == id
	}).(*mastodon.NotificationEvent).Notification
}

// concerns reports whether e is about status id, in any form.
func concerns(e mastodon.Event, id mastodon.ID) bool {
	about := func(st *mastodon.Status) bool {
		return st != nil && (st.ID == id || st.Reblog != nil && st.Reblog.ID == id)
	}
	switch e := e.(type) {
	case *mastodon.UpdateEvent:
		return about(e.Status)
	case *mastodon.UpdateEditEvent:
		return about(e.Status)
	case *mastodon.DeleteEvent:
		return e.ID == id
	case *mastodon.NotificationEvent:
		return about(e.Notification.Status)
	}
	return false
}

// never fails the test if the stream delivered anything about status id
// since its from'th event. The caller first waits for an event that was
// published after every event of id, so "so far" covers all of them.
func (s *liveStream) never(t *testing.T, from int, id mastodon.ID, what string) {
	t.Helper()
	for _, e := range s.seen[from:] {
		if concerns(e, id) {
			t.Errorf("%s delivered %s (%s); it must not reach this stream", s.name, describe(e), what)
		}
	}
}

// warmUp has poster post public statuses until each of streams has
// delivered one: go-mastodon connects in the background and says nothing
// when it is subscribed, and only a stream that is open receives events.
func warmUp(t *testing.T, ctx context.Context, poster *mastodon.Client, text string, streams ...*liveStream) {
	t.Helper()
	ids := map[mastodon.ID]bool{}
	isWarmUp := func(e mastodon.Event) bool {
		u, ok := e.(*mastodon.UpdateEvent)
		return ok && ids[u.Status.ID]
	}
	deadline := time.Now().Add(2 * streamDeadline)
	pending := streams
	for i := 0; len(pending) > 0; i++ {
		if time.Now().After(deadline) {
			for _, s := range pending {
				t.Errorf("%s received none of the warm-up statuses; it delivered: %s", s.name, s.history())
			}
			t.FailNow()
		}
		st, err := poster.PostStatus(ctx, &mastodon.Toot{Status: fmt.Sprintf("%s (%d)", text, i), Visibility: "public"})
		if err != nil {
			t.Fatalf("PostStatus (warm-up): %v", err)
		}
		ids[st.ID] = true
		var still []*liveStream
		for _, s := range pending {
			if _, ok := s.next(time.Second, isWarmUp); !ok {
				still = append(still, s)
			}
		}
		pending = still
	}
}

// Three people on a quickstart instance: bob follows alice, carol follows
// nobody. Through go-mastodon, bob reads his user stream and carol her user,
// public, local and hashtag streams, each over the WebSocket and as
// server-sent events, while alice and bob act through the REST API.
func TestMastodonClientLibraryStreaming(t *testing.T) {
	server := startQuickstartWithUsers(t, "alice", "bob", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const clientName = "go-mastodon streaming test"
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: server, ClientName: clientName, Scopes: "read write follow"})
	if err != nil {
		t.Fatalf("RegisterApp: %v", err)
	}
	alice := signInThroughBrowser(t, ctx, server, app, clientName, "alice")
	bob := signInThroughBrowser(t, ctx, server, app, clientName, "bob")
	// carol signs in twice, for two tokens: one for her WebSockets, one for
	// her event streams (streaming.max_per_token allows 8 streams a token).
	carol := signInThroughBrowser(t, ctx, server, app, clientName, "carol")
	carolSSE := signInThroughBrowser(t, ctx, server, app, clientName, "carol")
	me := func(c *mastodon.Client) mastodon.ID {
		t.Helper()
		a, err := c.GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatalf("GetAccountCurrentUser: %v", err)
		}
		return a.ID
	}
	meA, meB, meC := me(alice), me(bob), me(carol)
	if id := me(carolSSE); id != meC {
		t.Fatalf("carol's second token is account %s, want %s", id, meC)
	}
	if r, err := bob.AccountFollow(ctx, meA); err != nil || !r.Following {
		t.Fatalf("bob follows alice: %+v %v", r, err)
	}

	// The instance tells clients where to stream.
	inst, err := carol.GetInstance(ctx)
	if err != nil || inst.URLs["streaming_api"] != "ws://"+strings.TrimPrefix(server, "http://") {
		t.Fatalf("GetInstance: streaming_api %v, err %v", inst, err)
	}

	const tag = "StreamTag" // as a person types it; stored and matched as "streamtag"
	bobWS, carolWS := bob.NewWSClient(), carol.NewWSClient()
	bobWS.HandshakeTimeout, carolWS.HandshakeTimeout = 10*time.Second, 10*time.Second
	bobUserWS := openLive(t, "bob's user stream (WebSocket)", bobWS.StreamingWSUser)
	bobUserSSE := openLive(t, "bob's user stream (server-sent events)", bob.StreamingUser)
	carolUserWS := openLive(t, "carol's user stream (WebSocket)", carolWS.StreamingWSUser)
	carolUserSSE := openLive(t, "carol's user stream (server-sent events)", carolSSE.StreamingUser)
	carolPublicWS := openLive(t, "carol's public stream (WebSocket)", func(ctx context.Context) (chan mastodon.Event, error) {
		return carolWS.StreamingWSPublic(ctx, false)
	})
	carolPublicSSE := openLive(t, "carol's public stream (server-sent events)", func(ctx context.Context) (chan mastodon.Event, error) {
		return carolSSE.StreamingPublic(ctx, false)
	})
	carolLocalWS := openLive(t, "carol's local stream (WebSocket)", func(ctx context.Context) (chan mastodon.Event, error) {
		return carolWS.StreamingWSPublic(ctx, true)
	})
	carolLocalSSE := openLive(t, "carol's local stream (server-sent events)", func(ctx context.Context) (chan mastodon.Event, error) {
		return carolSSE.StreamingPublic(ctx, true)
	})
	carolTagWS := openLive(t, "carol's hashtag stream (WebSocket)", func(ctx context.Context) (chan mastodon.Event, error) {
		return carolWS.StreamingWSHashtag(ctx, tag, false)
	})
	carolTagSSE := openLive(t, "carol's hashtag stream (server-sent events)", func(ctx context.Context) (chan mastodon.Event, error) {
		return carolSSE.StreamingHashtag(ctx, tag, false)
	})
	follower := []*liveStream{bobUserWS, bobUserSSE}
	untagged := []*liveStream{carolPublicWS, carolPublicSSE, carolLocalWS, carolLocalSSE}
	tagged := []*liveStream{carolTagWS, carolTagSSE}
	public := slices.Concat(untagged, tagged)
	carolHome := []*liveStream{carolUserWS, carolUserSSE}
	carolAll := slices.Concat(public, carolHome)
	everyone := slices.Concat(follower, public)

	warmUp(t, ctx, alice, "alice warms up #"+tag, everyone...)
	warmUp(t, ctx, carol, "carol warms up", carolHome...) // her own statuses are on her home timeline

	// alice posts with the hashtag: her follower's home and every public
	// stream get it, with its text, author and tag.
	s1, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "Live from alice #" + tag, Visibility: "public"})
	if err != nil {
		t.Fatalf("PostStatus: %v", err)
	}
	for _, s := range everyone {
		got := s.update(t, s1.ID)
		if got.Account.ID != meA || got.Account.Username != "alice" || !strings.Contains(got.Content, "Live from alice") ||
			got.Visibility != "public" || len(got.Tags) != 1 || got.Tags[0].Name != "streamtag" || got.CreatedAt.IsZero() {
			t.Errorf("%s: update %+v, want alice's status %s", s.name, got, s1.ID)
		}
	}

	// bob posts without the tag, and alice favourites it: bob's user
	// streams carry the notification; carol's public and local streams the
	// status, her hashtag streams not.
	b1, err := bob.PostStatus(ctx, &mastodon.Toot{Status: "bob says hello", Visibility: "public"})
	if err != nil {
		t.Fatalf("PostStatus (bob): %v", err)
	}
	if _, err := alice.Favourite(ctx, b1.ID); err != nil {
		t.Fatalf("Favourite: %v", err)
	}
	for _, s := range follower {
		n := s.notification(t, "favourite", b1.ID)
		if n.Account.ID != meA || n.ID == "" || n.CreatedAt.IsZero() || !strings.Contains(n.Status.Content, "bob says hello") || n.Status.Account.ID != meB {
			t.Errorf("%s: favourite notification %+v (status %+v)", s.name, n, n.Status)
		}
	}
	for _, s := range untagged {
		if got := s.update(t, b1.ID); got.Account.ID != meB || !strings.Contains(got.Content, "bob says hello") {
			t.Errorf("%s: update %+v, want bob's status %s", s.name, got, b1.ID)
		}
	}

	// alice edits her status (PUT /api/v1/statuses/:id): status.update,
	// with the new text, wherever it was shown.
	edited, err := alice.UpdateStatus(ctx, &mastodon.Toot{Status: "Edited: still live from alice #" + tag}, s1.ID)
	if err != nil || edited.ID != s1.ID || edited.EditedAt.IsZero() {
		t.Fatalf("UpdateStatus: %+v %v", edited, err)
	}
	for _, s := range everyone {
		got := s.edit(t, s1.ID)
		if got.Account.ID != meA || !strings.Contains(got.Content, "Edited: still live from alice") || got.EditedAt.IsZero() ||
			len(got.Tags) != 1 || got.Tags[0].Name != "streamtag" {
			t.Errorf("%s: status.update %+v, want the edited %s", s.name, got, s1.ID)
		}
	}

	// A followers-only status reaches bob, who follows alice, and no stream
	// of carol's, though it carries the hashtag.
	p1, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "Only for my followers #" + tag, Visibility: "private"})
	if err != nil {
		t.Fatalf("PostStatus (private): %v", err)
	}
	for _, s := range follower {
		if got := s.update(t, p1.ID); got.Visibility != "private" || !strings.Contains(got.Content, "Only for my followers") || got.Account.ID != meA {
			t.Errorf("%s: update %+v, want alice's private status %s", s.name, got, p1.ID)
		}
	}
	// Every event of p1 has been routed (bob has it): what alice does next
	// comes after it on every stream. She mentions carol.
	m1, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "@carol are you following this? #" + tag, Visibility: "public"})
	if err != nil {
		t.Fatalf("PostStatus (mention): %v", err)
	}
	for _, s := range public {
		s.update(t, m1.ID)
	}
	for _, s := range carolHome {
		n := s.notification(t, "mention", m1.ID)
		if n.Account.ID != meA || !strings.Contains(n.Status.Content, "are you following this?") || len(n.Status.Mentions) != 1 || n.Status.Mentions[0].ID != meC {
			t.Errorf("%s: mention notification %+v (status %+v)", s.name, n, n.Status)
		}
	}
	marks := map[*liveStream]int{}
	for _, s := range carolAll {
		s.never(t, 0, p1.ID, "alice's followers-only status; carol does not follow her")
		marks[s] = len(s.seen)
	}
	for _, s := range carolHome {
		s.never(t, 0, s1.ID, "alice's status, on the home stream of carol, who does not follow her")
	}
	for _, s := range tagged {
		s.never(t, 0, b1.ID, "bob's status without the hashtag")
	}

	// alice deletes both statuses: the public one's deletion reaches every
	// stream that showed it, the private one's only bob's.
	for _, id := range []mastodon.ID{s1.ID, p1.ID} {
		if err := alice.DeleteStatus(ctx, id); err != nil {
			t.Fatalf("DeleteStatus %s: %v", id, err)
		}
	}
	for _, s := range follower {
		s.deleted(t, s1.ID)
		s.deleted(t, p1.ID)
	}
	for _, s := range public {
		s.deleted(t, s1.ID)
	}
	m2, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "@carol one more #" + tag, Visibility: "public"})
	if err != nil {
		t.Fatalf("PostStatus (second mention): %v", err)
	}
	for _, s := range public {
		s.update(t, m2.ID)
	}
	for _, s := range carolHome {
		s.notification(t, "mention", m2.ID)
	}
	for _, s := range carolAll {
		s.never(t, marks[s], p1.ID, "the deletion of alice's followers-only status, which carol never saw")
	}

	// No stream was dropped and reconnected on the way (go-mastodon says so
	// with an error event, and events sent meanwhile are lost).
	for _, s := range slices.Concat(follower, carolAll) {
		for _, e := range s.seen {
			if _, ok := e.(*mastodon.ErrorEvent); ok {
				t.Errorf("%s: %s", s.name, describe(e))
			}
		}
	}
}
