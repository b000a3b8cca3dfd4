package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

// pollFixture posts a status with a poll of the given options by author.
func (f *counterFixture) pollStatus(t *testing.T, author int64, vis Visibility, multiple bool, ends time.Time, options ...string) (*Status, *Poll) {
	t.Helper()
	id := f.id()
	st := &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10), AccountID: author, Local: true, Visibility: vis,
		Text: "a poll", CreatedAt: time.Now()}
	p := &Poll{ID: f.id(), StatusID: id, AccountID: author, Multiple: multiple, ExpiresAt: ends.Truncate(time.Millisecond)}
	for _, o := range options {
		p.Options = append(p.Options, PollOption{Title: o})
	}
	if err := f.s.CreateStatus(context.Background(), NewStatus{Status: st, Poll: p}); err != nil {
		t.Fatal(err)
	}
	return st, p
}

func (f *counterFixture) pollAs(t *testing.T, viewer, status int64) *Poll {
	t.Helper()
	m, err := f.s.PollsForStatuses(context.Background(), viewer, []int64{status})
	if err != nil {
		t.Fatal(err)
	}
	return m[status]
}

func tallies(p *Poll) []int64 {
	var out []int64
	for _, o := range p.Options {
		out = append(out, o.VotesCount)
	}
	return out
}

// pollJobsDue lists the run times of the poll.expire jobs of poll id.
func pollJobsDue(t *testing.T, f *counterFixture, poll int64) []time.Time {
	t.Helper()
	rows, err := f.s.read.QueryContext(context.Background(), `SELECT run_at FROM jobs WHERE kind = ? AND payload = ? ORDER BY run_at`,
		KindPollExpire, `{"poll":`+strconv.FormatInt(poll, 10)+`}`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			t.Fatal(err)
		}
		out = append(out, fromMs(ms))
	}
	return out
}

// A poll is written with its status and the job due at its end; each
// account votes once, within the options, one choice unless multiple,
// before the end; the tallies and the viewer's own choices load in one
// query; the end tells the author and the local voters once, under the
// notification rule (a voter who blocks the author hears nothing).
func TestPollVotesAndEnd(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 4)
	author, v1, v2, v3 := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3]
	now := time.Now()
	ends := now.Add(time.Hour)
	st, p := f.pollStatus(t, author, Public, false, ends, "yes", "no", "maybe")
	if due := pollJobsDue(t, f, p.ID); len(due) != 1 || !due[0].Equal(p.ExpiresAt) {
		t.Fatalf("poll.expire jobs due %v, want one at the poll's end %v", due, p.ExpiresAt)
	}
	got := f.pollAs(t, v1, st.ID)
	if got == nil || got.ID != p.ID || got.AccountID != author || len(got.Options) != 3 || got.Options[2].Title != "maybe" ||
		got.OwnVotes != nil || got.VotesCount != 0 || !got.ExpiresAt.Equal(p.ExpiresAt) {
		t.Fatalf("poll as loaded: %+v", got)
	}

	for _, c := range [][]int{{0, 1}, {3}, {-1}, {}} {
		if err := f.s.Vote(ctx, p.ID, v1, c, now); !errors.Is(err, ErrConflict) {
			t.Errorf("choices %v in a single-choice poll of 3: %v, want ErrConflict", c, err)
		}
	}
	if err := f.s.Vote(ctx, p.ID, v1, []int{0}, now); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Vote(ctx, p.ID, v1, []int{1}, now); !errors.Is(err, ErrAlreadyVoted) {
		t.Errorf("a second vote: %v, want ErrAlreadyVoted", err)
	}
	for _, v := range []struct {
		who    int64
		choice int
	}{{v2, 1}, {v3, 0}} {
		if err := f.s.Vote(ctx, p.ID, v.who, []int{v.choice}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.Vote(ctx, p.ID+12345, v1, []int{0}, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a vote in no poll: %v", err)
	}
	got = f.pollAs(t, v2, st.ID)
	if !slices.Equal(tallies(got), []int64{2, 1, 0}) || got.VotesCount != 3 || got.VotersCount != 3 || !slices.Equal(got.OwnVotes, []int{1}) {
		t.Errorf("after three votes, as v2: tallies %v, %d votes by %d, own %v", tallies(got), got.VotesCount, got.VotersCount, got.OwnVotes)
	}
	if got := f.pollAs(t, 0, st.ID); got.OwnVotes != nil {
		t.Errorf("anonymous own votes %v", got.OwnVotes)
	}

	// Before its end the job finds it open, and says until when.
	stored, open, err := f.s.EndPoll(ctx, p.ID, now, f.id, nil)
	if err != nil || len(stored) != 0 || !open.Equal(p.ExpiresAt) {
		t.Fatalf("EndPoll before the end: %v, open until %v, %v", stored, open, err)
	}
	if err := f.s.Block(ctx, f.id(), v3, author, now); err != nil {
		t.Fatal(err)
	}
	after := ends.Add(time.Second)
	if err := f.s.Vote(ctx, p.ID, f.accounts[0], []int{0}, after); !errors.Is(err, ErrPollExpired) {
		t.Errorf("a vote after the end: %v, want ErrPollExpired", err)
	}
	stored, open, err = f.s.EndPoll(ctx, p.ID, after, f.id, nil)
	if err != nil || !open.IsZero() {
		t.Fatalf("EndPoll: %v, open %v", err, open)
	}
	var told []int64
	for _, n := range stored {
		if n.Type != "poll" || n.FromAccountID != author || n.StatusID != st.ID {
			t.Errorf("notification %+v", n)
		}
		told = append(told, n.AccountID)
	}
	slices.Sort(told)
	if want := []int64{author, v1, v2}; !slices.Equal(told, want) {
		t.Errorf("told %v, want the author and the voters who do not block it %v", told, want)
	}
	// Run again (a retried job): nobody is told twice.
	if again, _, err := f.s.EndPoll(ctx, p.ID, after, f.id, nil); err != nil || len(again) != 0 {
		t.Errorf("EndPoll again: %v %v", again, err)
	}
	var n int
	if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE type = 'poll' AND status_id = ?`, st.ID).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d poll notifications stored (%v), want 3", n, err)
	}

	// Deleting the status takes the poll, its options and votes with it;
	// its job then has nothing to do.
	if err := f.s.DeleteStatus(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.pollAs(t, v1, st.ID); got != nil {
		t.Errorf("a deleted status's poll: %+v", got)
	}
	for _, table := range []string{"poll_options", "poll_votes"} {
		if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE poll_id = ?`, p.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows left in %s (%v)", n, table, err)
		}
	}
	if stored, open, err := f.s.EndPoll(ctx, p.ID, after, f.id, nil); err != nil || len(stored) != 0 || !open.IsZero() {
		t.Errorf("EndPoll of a deleted poll: %v %v %v", stored, open, err)
	}
}

// A multiple-choice poll takes several choices in one vote: each option
// counts one, the poll counts every choice and one voter.
func TestPollMultipleChoices(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 3)
	st, p := f.pollStatus(t, f.accounts[0], Public, true, time.Now().Add(time.Hour), "a", "b", "c")
	if err := f.s.Vote(ctx, p.ID, f.accounts[1], []int{2, 0}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Vote(ctx, p.ID, f.accounts[2], []int{1, 1}, time.Now()); !errors.Is(err, ErrConflict) {
		t.Errorf("the same choice twice: %v", err)
	}
	got := f.pollAs(t, f.accounts[1], st.ID)
	if !slices.Equal(tallies(got), []int64{1, 0, 1}) || got.VotesCount != 2 || got.VotersCount != 1 || !slices.Equal(got.OwnVotes, []int{0, 2}) {
		t.Errorf("tallies %v, %d votes by %d, own %v", tallies(got), got.VotesCount, got.VotersCount, got.OwnVotes)
	}
}

// An edit keeps the poll's votes when its options stay (taking the new end,
// told again then), resets them when replaced, and removes the poll.
func TestEditStatusPoll(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	author, voter := f.accounts[0], f.accounts[1]
	now := time.Now()
	st, p := f.pollStatus(t, author, Public, false, now.Add(time.Hour), "a", "b")
	if err := f.s.Vote(ctx, p.ID, voter, []int{1}, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.EndPoll(ctx, p.ID, now.Add(2*time.Hour), f.id, nil); err != nil {
		t.Fatal(err)
	}
	edit := func(c *PollChange) {
		t.Helper()
		st.EditedAt = time.Now()
		if err := f.s.EditStatusPoll(ctx, st, f.id(), nil, nil, nil, nil, nil, c); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(3 * time.Hour).Truncate(time.Millisecond)
	kept := *p
	kept.ExpiresAt, kept.HideTotals = later, true
	edit(&PollChange{Poll: &kept})
	got := f.pollAs(t, voter, st.ID)
	if got.ID != p.ID || !slices.Equal(tallies(got), []int64{0, 1}) || !got.HideTotals || !got.ExpiresAt.Equal(later) {
		t.Errorf("kept poll: %+v", got)
	}
	if due := pollJobsDue(t, f, p.ID); len(due) != 2 || !due[1].Equal(later) {
		t.Errorf("jobs due %v: want one more at the new end %v", due, later)
	}
	if _, open, _ := f.s.EndPoll(ctx, p.ID, now.Add(2*time.Hour), f.id, nil); !open.Equal(later) {
		t.Errorf("the moved poll is open until %v, want %v", open, later)
	}
	if stored, _, _ := f.s.EndPoll(ctx, p.ID, later, f.id, nil); len(stored) != 2 {
		t.Errorf("told %d at the new end, want the author and the voter", len(stored))
	}

	fresh := &Poll{ID: f.id(), StatusID: st.ID, AccountID: author, ExpiresAt: later, Options: []PollOption{{Title: "x"}, {Title: "y"}, {Title: "z"}}}
	edit(&PollChange{Poll: fresh, Reset: true})
	got = f.pollAs(t, voter, st.ID)
	if got.ID != fresh.ID || !slices.Equal(tallies(got), []int64{0, 0, 0}) || got.VotersCount != 0 || got.OwnVotes != nil {
		t.Errorf("replaced poll: %+v", got)
	}
	if err := f.s.Vote(ctx, fresh.ID, voter, []int{2}, now); err != nil {
		t.Errorf("a vote in the replaced poll: %v", err)
	}

	edit(&PollChange{})
	if got := f.pollAs(t, voter, st.ID); got != nil {
		t.Errorf("removed poll: %+v", got)
	}
}

// A poll is seen only where its status is: the visibility rule.
func TestPollStatusFollowsVisibility(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 3)
	author, follower, stranger := f.accounts[0], f.accounts[1], f.accounts[2]
	if _, err := f.s.Follow(ctx, f.id(), follower, author, FollowOptions{ShowReblogs: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	st, p := f.pollStatus(t, author, Private, false, time.Now().Add(time.Hour), "a", "b")
	for _, who := range []int64{author, follower} {
		if got, err := f.s.PollStatus(ctx, who, p.ID); err != nil || got.ID != st.ID {
			t.Errorf("account %d: %v %v", who, got, err)
		}
	}
	for _, who := range []int64{stranger, 0} {
		if _, err := f.s.PollStatus(ctx, who, p.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("account %d sees a followers-only poll: %v", who, err)
		}
	}
}

// The end enqueues, with the notifications, the job that tells other
// servers of the results, when the status reaches one (a remote follower
// of its author): none otherwise, and none when run again.
func TestEndPollTellsOtherServers(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	now := time.Now()
	update := func(status, author int64) *NewJob {
		return &NewJob{Kind: "ap.publish", Payload: []byte(`{"activity":"Update","status":` + strconv.FormatInt(status, 10) + `}`)}
	}
	published := func() int {
		t.Helper()
		var n int
		if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = 'ap.publish'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	_, lonely := f.pollStatus(t, f.accounts[0], Public, false, now.Add(time.Minute), "a", "b")
	if _, _, err := f.s.EndPoll(ctx, lonely.ID, now.Add(time.Hour), f.id, update); err != nil {
		t.Fatal(err)
	}
	if n := published(); n != 0 {
		t.Errorf("%d publish jobs for a poll no other server saw", n)
	}
	remote, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "far", Domain: "remote.example",
		URI: "https://remote.example/users/far", CreatedAt: now}, InboxURL: "https://remote.example/inbox", FetchedAt: now}, f.id())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Follow(ctx, f.id(), remote, f.accounts[1], FollowOptions{ShowReblogs: true}, now); err != nil {
		t.Fatal(err)
	}
	_, seen := f.pollStatus(t, f.accounts[1], Public, false, now.Add(time.Minute), "a", "b")
	for range 2 {
		if _, _, err := f.s.EndPoll(ctx, seen.ID, now.Add(time.Hour), f.id, update); err != nil {
			t.Fatal(err)
		}
	}
	if n := published(); n != 1 {
		t.Errorf("%d publish jobs for a poll a remote follower saw, ended twice; want 1", n)
	}
}
