package social

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

// Up to inlineFanOut followers, a post fills their home timelines in its
// own transaction; one more, and it leaves them to a job and wakes the
// runner. Without a runner (no WithJobs) everything is done at once.
func TestLargeFanOutsAreDeferredToAJob(t *testing.T) {
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
	author, au := user("author")
	var last int64
	for i := range inlineFanOut {
		f, _ := user("f" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
		if _, err := st.Follow(ctx, ids.Next(), f.ID, author.ID, store.FollowOptions{}, now); err != nil {
			t.Fatal(err)
		}
		last = f.ID
	}
	woken := 0
	s := New(cfg, st, ids, nil).WithJobs(func() { woken++ })
	inHome := func(who, status int64) bool {
		got, err := st.HomeTimeline(ctx, who, store.Page{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if g == status {
				return true
			}
		}
		return false
	}
	pending := func() int64 { js, _ := st.JobStats(ctx); return js.Pending }

	first, err := s.Post(ctx, author, au, PostParams{Text: "to 64", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	if !inHome(last, first.ID) || pending() != 0 {
		t.Fatalf("64 followers: in a follower's home %v, jobs %d; want inline", inHome(last, first.ID), pending())
	}
	woken = 0
	extra, _ := user("one_more")
	if _, err := st.Follow(ctx, ids.Next(), extra.ID, author.ID, store.FollowOptions{}, now); err != nil {
		t.Fatal(err)
	}
	second, err := s.Post(ctx, author, au, PostParams{Text: "to 65", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	if !inHome(author.ID, second.ID) || inHome(extra.ID, second.ID) || pending() != 1 || woken == 0 {
		t.Fatalf("65 followers: author %v, follower %v, jobs %d, woken %d; want the author's at once and one job",
			inHome(author.ID, second.ID), inHome(extra.ID, second.ID), pending(), woken)
	}
	if err := s.FanOutJob(ctx, []byte(`{"status":`+itoa(second.ID)+`}`)); err != nil || !inHome(extra.ID, second.ID) {
		t.Fatalf("the job: %v, in the follower's home %v", err, inHome(extra.ID, second.ID))
	}
	if err := s.FanOutJob(ctx, []byte(`{"status":"x"}`)); err == nil {
		t.Fatal("a malformed payload was taken")
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
