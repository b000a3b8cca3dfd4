package social

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// The publishing job posts a scheduled status once its time has come,
// through Post (its home timelines, its uploads), once however often it
// runs; a job whose status was moved later, or cancelled, does nothing; a
// status that no longer passes the rules is buried, not retried forever.
func TestPublishScheduledJob(t *testing.T) {
	ctx := context.Background()
	cfg := testutil.ProdConfig(t, t.TempDir())
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now()
	user := func(name string) (*store.Account, *store.User) {
		a := &store.Account{ID: ids.Next(), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, CreatedAt: now, UpdatedAt: now}
		u := &store.User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: now}
		if err := st.CreateLocalAccount(ctx, a, u); err != nil {
			t.Fatal(err)
		}
		return a, u
	}
	alice, au := user("alice")
	bob, _ := user("bob")
	if _, err := st.Follow(ctx, ids.Next(), bob.ID, alice.ID, store.FollowOptions{}, now); err != nil {
		t.Fatal(err)
	}
	upload := ids.Next()
	if err := st.CreateMedia(ctx, &store.Media{ID: upload, AccountID: alice.ID, Kind: "image", ContentType: "image/png", FileKey: "a.png",
		Meta: "{}", State: "ready", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s := New(cfg, st, ids, nil)
	clock := now
	s.now = func() time.Time { return clock }

	sc, err := s.Schedule(ctx, alice, au, PostParams{Text: "from the past", MediaIDs: []int64{upload}, Visibility: "public"},
		now.Add(10*time.Minute), ScheduleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(store.ScheduledPayload{ID: sc.ID})
	if err := s.PublishScheduledJob(ctx, payload); err != nil {
		t.Fatal(err)
	}
	if home, _ := st.HomeTimeline(ctx, bob.ID, store.Page{Limit: 10}); len(home) != 0 {
		t.Fatalf("published before its time: %v", home)
	}
	// Moved an hour later, then the first job's time comes: nothing yet.
	if _, err := s.Reschedule(ctx, alice, sc.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(11 * time.Minute)
	if err := s.PublishScheduledJob(ctx, payload); err != nil {
		t.Fatal(err)
	}
	if home, _ := st.HomeTimeline(ctx, bob.ID, store.Page{Limit: 10}); len(home) != 0 {
		t.Fatalf("the moved status was published at its old time: %v", home)
	}
	clock = now.Add(time.Hour + time.Second)
	for range 2 { // at least once: a second run publishes nothing more
		if err := s.PublishScheduledJob(ctx, payload); err != nil {
			t.Fatal(err)
		}
	}
	home, _ := st.HomeTimeline(ctx, bob.ID, store.Page{Limit: 10})
	if len(home) != 1 {
		t.Fatalf("bob's home after the time: %v", home)
	}
	posted, _ := st.StatusByID(ctx, home[0])
	media, _ := st.MediaForStatuses(ctx, home[:1])
	if posted.Text != "from the past" || posted.AccountID != alice.ID || len(media[posted.ID]) != 1 || media[posted.ID][0].ID != upload {
		t.Errorf("published: %+v with %v", posted, media[posted.ID])
	}
	if _, err := s.ScheduledStatus(ctx, alice, sc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("still scheduled after publishing: %v", err)
	}

	// A reply whose parent is deleted before its time: buried, and kept
	// for its author to see.
	parent, err := s.Post(ctx, bob, &store.User{DefaultPrivacy: "public"}, PostParams{Text: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := s.Schedule(ctx, alice, au, PostParams{Text: "late answer", InReplyToID: parent.ID}, clock.Add(10*time.Minute), ScheduleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, bob, parent.ID); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(11 * time.Minute)
	payload, _ = json.Marshal(store.ScheduledPayload{ID: reply.ID})
	if err := s.PublishScheduledJob(ctx, payload); !jobs.IsPermanent(err) {
		t.Errorf("a reply to a deleted status: %v, want a permanent failure", err)
	}
	if _, err := s.ScheduledStatus(ctx, alice, reply.ID); err != nil {
		t.Errorf("the unpublishable status is gone: %v", err)
	}
	// Cancelled: the job does nothing.
	if err := s.CancelScheduled(ctx, alice, reply.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishScheduledJob(ctx, payload); err != nil {
		t.Errorf("the job of a cancelled status: %v", err)
	}
}
