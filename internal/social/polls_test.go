package social

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

type pollFixture struct {
	s     *Service
	st    *store.Store
	users map[string]*store.Account
	user  *store.User
}

func newPollFixture(t *testing.T, names ...string) *pollFixture {
	t.Helper()
	ctx := context.Background()
	cfg := testutil.ProdConfig(t, t.TempDir())
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ids := id.NewGenerator()
	f := &pollFixture{s: New(cfg, st, ids, nil), st: st, users: map[string]*store.Account{},
		user: &store.User{DefaultPrivacy: "public", DefaultLanguage: "en"}}
	now := time.Now()
	for _, name := range names {
		a := &store.Account{ID: ids.Next(), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateLocalAccount(ctx, a, &store.User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true,
			Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		f.users[name] = a
	}
	return f
}

func (f *pollFixture) post(t *testing.T, who string, p *PollParams) (*store.Status, *store.Poll) {
	t.Helper()
	st, err := f.s.Post(context.Background(), f.users[who], f.user, PostParams{Text: "which?", Poll: p})
	if err != nil {
		t.Fatal(err)
	}
	_, poll, err := f.s.Poll(context.Background(), f.users[who].ID, f.pollID(t, st.ID))
	if err != nil {
		t.Fatal(err)
	}
	return st, poll
}

func (f *pollFixture) pollID(t *testing.T, status int64) int64 {
	t.Helper()
	m, err := f.st.PollsForStatuses(context.Background(), 0, []int64{status})
	if err != nil || m[status] == nil {
		t.Fatalf("no poll on %d: %v", status, err)
	}
	return m[status].ID
}

func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Errorf("%s: %v, want a validation error of %s", what, err, field)
	}
}

// A poll is held to the limits the instance advertises, and never carries
// attachments.
func TestPollLimits(t *testing.T) {
	f := newPollFixture(t, "alice")
	ctx := context.Background()
	ok := func() *PollParams { return &PollParams{Options: []string{"a", "b"}, ExpiresIn: 3600} }
	for what, p := range map[string]*PollParams{
		"one option":               {Options: []string{"a", " "}, ExpiresIn: 3600},
		"five options":             {Options: []string{"a", "b", "c", "d", "e"}, ExpiresIn: 3600},
		"an option of 51":          {Options: []string{"a", strings.Repeat("é", MaxPollOptionChars+1)}, ExpiresIn: 3600},
		"duplicates":               {Options: []string{"a", " a"}, ExpiresIn: 3600},
		"ending in 299 s":          {Options: []string{"a", "b"}, ExpiresIn: MinPollExpiresIn - 1},
		"ending past the maximum":  {Options: []string{"a", "b"}, ExpiresIn: MaxPollExpiresIn + 1},
		"no expires_in (0 s) sent": {Options: []string{"a", "b"}},
	} {
		_, err := f.s.Post(ctx, f.users["alice"], f.user, PostParams{Text: "x", Poll: p})
		wantInvalid(t, what, err, "poll")
	}
	_, err := f.s.Post(ctx, f.users["alice"], f.user, PostParams{Text: "x", Poll: ok(), MediaIDs: []int64{42}})
	wantInvalid(t, "a poll with media", err, "media_ids")
	for _, p := range []*PollParams{
		{Options: []string{"a", strings.Repeat("é", MaxPollOptionChars)}, ExpiresIn: MinPollExpiresIn},
		{Options: []string{"a", "b", "c", "d"}, ExpiresIn: MaxPollExpiresIn},
	} {
		if _, err := f.s.Post(ctx, f.users["alice"], f.user, PostParams{Text: "x", Poll: p}); err != nil {
			t.Errorf("a poll at the limits: %v", err)
		}
	}
}

// Votes follow Mastodon's VoteValidator; the end is told by the job, which
// puts itself off while the poll is open.
func TestPollVotingAndItsEnd(t *testing.T) {
	f := newPollFixture(t, "alice", "bob", "carol")
	ctx := context.Background()
	alice, bob, carol := f.users["alice"], f.users["bob"], f.users["carol"]
	st, poll := f.post(t, "alice", &PollParams{Options: []string{"yes", "no"}, ExpiresIn: 600})
	_, err := f.s.Vote(ctx, alice, poll.ID, []int{0})
	wantInvalid(t, "a vote in one's own poll", err, "base")
	_, err = f.s.Vote(ctx, bob, poll.ID, []int{0, 1})
	wantInvalid(t, "two choices in a single-choice poll", err, "base")
	_, err = f.s.Vote(ctx, bob, poll.ID, []int{2})
	wantInvalid(t, "a choice past the options", err, "choices")
	_, err = f.s.Vote(ctx, bob, poll.ID, nil)
	wantInvalid(t, "no choice", err, "choices")
	got, err := f.s.Vote(ctx, bob, poll.ID, []int{1})
	if err != nil || !slices.Equal(got.OwnVotes, []int{1}) || got.Options[1].VotesCount != 1 {
		t.Fatalf("bob's vote: %+v %v", got, err)
	}
	_, err = f.s.Vote(ctx, bob, poll.ID, []int{0})
	wantInvalid(t, "a second vote", err, "base")
	if _, err := f.s.Vote(ctx, bob, poll.ID+1, []int{0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a vote in no poll: %v", err)
	}

	payload := []byte(`{"poll":` + itoa(poll.ID) + `}`)
	err = f.s.PollExpireJob(ctx, payload)
	if err == nil || jobs.IsPermanent(err) || !strings.Contains(err.Error(), "deferred") {
		t.Fatalf("the job before the end: %v, want it deferred", err)
	}
	if err := f.s.PollExpireJob(ctx, []byte(`{}`)); !jobs.IsPermanent(err) {
		t.Errorf("a job without a poll: %v, want it buried", err)
	}

	f.s.now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	_, err = f.s.Vote(ctx, carol, poll.ID, []int{0})
	wantInvalid(t, "a vote after the end", err, "base")
	if err := f.s.PollExpireJob(ctx, payload); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PollExpireJob(ctx, payload); err != nil { // run again, as after a lost lease
		t.Fatal(err)
	}
	for who, want := range map[*store.Account]int{alice: 1, bob: 1, carol: 0} {
		ns, err := f.st.Notifications(ctx, who.ID, store.NotificationFilter{Types: []string{"poll"}}, store.Page{Limit: 10})
		if err != nil || len(ns) != want {
			t.Errorf("%s has %d poll notifications (%v), want %d", who.Username, len(ns), err, want)
			continue
		}
		if want == 1 && (ns[0].StatusID != st.ID || ns[0].FromAccountID != alice.ID) {
			t.Errorf("%s's notification %+v", who.Username, ns[0])
		}
	}
}

// An edit sends the poll again (Mastodon's clients do): the same options
// keep the votes, others reset them, none removes the poll; media and a
// poll stay apart.
func TestEditingAPoll(t *testing.T) {
	f := newPollFixture(t, "alice", "bob")
	ctx := context.Background()
	alice, bob := f.users["alice"], f.users["bob"]
	st, poll := f.post(t, "alice", &PollParams{Options: []string{"yes", "no"}, ExpiresIn: 600})
	if _, err := f.s.Vote(ctx, bob, poll.ID, []int{0}); err != nil {
		t.Fatal(err)
	}
	edit := func(p *PollParams) *store.Poll {
		t.Helper()
		if _, err := f.s.Edit(ctx, alice, st.ID, EditParams{Text: "which one?", Poll: p}); err != nil {
			t.Fatal(err)
		}
		m, err := f.st.PollsForStatuses(ctx, bob.ID, []int64{st.ID})
		if err != nil {
			t.Fatal(err)
		}
		return m[st.ID]
	}
	got := edit(&PollParams{Options: []string{"yes", "no"}, ExpiresIn: 1200, HideTotals: true})
	if got.ID != poll.ID || got.VotersCount != 1 || !got.HideTotals || !got.ExpiresAt.After(poll.ExpiresAt) {
		t.Errorf("same options: %+v, want the votes kept, hidden totals and a later end", got)
	}
	got = edit(&PollParams{Options: []string{"yes", "no", "maybe"}, ExpiresIn: 1200})
	if got.ID == poll.ID || got.VotersCount != 0 || got.OwnVotes != nil || len(got.Options) != 3 {
		t.Errorf("new options: %+v, want a new poll without votes", got)
	}
	_, err := f.s.Edit(ctx, alice, st.ID, EditParams{Text: "x", Poll: &PollParams{Options: []string{"a", "b"}, ExpiresIn: 600}, MediaIDs: []int64{1}})
	wantInvalid(t, "an edit with a poll and media", err, "media_ids")
	if got := edit(nil); got != nil {
		t.Errorf("an edit without a poll kept %+v", got)
	}
}
