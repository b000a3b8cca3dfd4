package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// A remote status's poll is stored with the tallies its server gave, and
// an Update replaces them (the same options) or the poll (other options);
// a local account's vote in it counts here at once. A poll without an
// end loads with none and never ends.
func TestRemotePollStoredAndRefreshed(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	voter := f.accounts[0]
	bob, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: "bob", Domain: "b.example",
		URI: "https://b.example/users/bob"}}, f.id())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	ends := now.Add(time.Hour)
	st := &Status{ID: f.id(), URI: "https://b.example/q/1", AccountID: bob, Visibility: Public, Content: "<p>Tea?</p>", CreatedAt: now}
	p := &Poll{ID: f.id(), ExpiresAt: ends, VotersCount: 4, Options: []PollOption{{Title: "Tea", VotesCount: 3}, {Title: "Coffee", VotesCount: 1}}}
	sid, created, err := f.s.CreateRemoteStatus(ctx, NewStatus{Status: st, Poll: p})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	got := f.pollAs(t, voter, sid)
	if got == nil || got.AccountID != bob || !slices.Equal(tallies(got), []int64{3, 1}) || got.VotesCount != 4 || got.VotersCount != 4 ||
		!got.ExpiresAt.Equal(ends) || got.Multiple {
		t.Fatalf("remote poll as loaded: %+v", got)
	}
	if due := pollJobsDue(t, f, p.ID); len(due) != 1 || !due[0].Equal(ends) {
		t.Errorf("end jobs %v, want one at %v", due, ends)
	}
	if err := f.s.Vote(ctx, p.ID, voter, []int{1}, now); err != nil {
		t.Fatal(err)
	}
	if got := f.pollAs(t, voter, sid); !slices.Equal(tallies(got), []int64{3, 2}) || !slices.Equal(got.OwnVotes, []int{1}) {
		t.Errorf("after a local vote: %v own %v", tallies(got), got.OwnVotes)
	}

	// The same options: new tallies, the local vote kept.
	upd := &Poll{ID: f.id(), ExpiresAt: ends, VotersCount: 9, Options: []PollOption{{Title: "Tea", VotesCount: 6}, {Title: "Coffee", VotesCount: 3}}}
	if err := f.s.RefreshRemotePoll(ctx, sid, upd, now); err != nil {
		t.Fatal(err)
	}
	got = f.pollAs(t, voter, sid)
	if got.ID != p.ID || !slices.Equal(tallies(got), []int64{6, 3}) || got.VotesCount != 9 || got.VotersCount != 9 || !slices.Equal(got.OwnVotes, []int{1}) {
		t.Errorf("after an Update: %+v", got)
	}
	// Other options: a new poll, the votes here gone with the old; no end.
	repl := &Poll{ID: f.id(), Multiple: true, Options: []PollOption{{Title: "Tea"}, {Title: "Water", VotesCount: 1}}}
	if err := f.s.RefreshRemotePoll(ctx, sid, repl, now); err != nil {
		t.Fatal(err)
	}
	got = f.pollAs(t, voter, sid)
	if got.ID != repl.ID || !got.Multiple || !slices.Equal(tallies(got), []int64{0, 1}) || got.OwnVotes != nil || !got.ExpiresAt.IsZero() ||
		got.Ended(now.AddDate(100, 0, 0)) {
		t.Errorf("after an Update with other options: %+v", got)
	}
	if err := f.s.Vote(ctx, repl.ID, voter, []int{0, 1}, now.AddDate(50, 0, 0)); err != nil {
		t.Errorf("a vote in a poll without an end: %v", err)
	}
	// Only a remote status's poll is refreshed from outside.
	local, _ := f.pollStatus(t, voter, Public, false, ends, "a", "b")
	if err := f.s.RefreshRemotePoll(ctx, local.ID, &Poll{ID: f.id(), Options: []PollOption{{Title: "x"}}}, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a local poll refreshed as a remote one: %v", err)
	}
	// A remote poll's end tells the local voters, and federates nothing
	// (its own server tells the final results).
	end := &Poll{ID: repl.ID, ExpiresAt: now.Add(-time.Second), Multiple: true, Options: repl.Options}
	if err := f.s.RefreshRemotePoll(ctx, sid, end, now); err != nil {
		t.Fatal(err)
	}
	federated := false
	stored, _, err := f.s.EndPoll(ctx, repl.ID, now, f.id, func(int64, int64) *NewJob { federated = true; return &NewJob{Kind: "x"} })
	if err != nil || len(stored) != 1 || stored[0].AccountID != voter {
		t.Errorf("the end of a remote poll: %+v %v", stored, err)
	}
	var jobs int
	if err := f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = 'x'`).Scan(&jobs); err != nil || jobs != 0 {
		t.Errorf("the end of a remote poll federated: %d jobs (%v, asked %v)", jobs, err, federated)
	}
}

// A remote account's votes in a local poll come one choice at a time: one
// voter once in a single-choice poll, each option once in a multiple one,
// nothing after the end.
func TestRemoteVotesInALocalPoll(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	author := f.accounts[0]
	var remote []int64
	for _, name := range []string{"bob", "eve"} {
		id, err := f.s.UpsertRemoteAccount(ctx, &RemoteAccount{Account: Account{Username: name, Domain: "b.example",
			URI: "https://b.example/users/" + name}}, f.id())
		if err != nil {
			t.Fatal(err)
		}
		remote = append(remote, id)
	}
	now := time.Now()
	single, sp := f.pollStatus(t, author, Public, false, now.Add(time.Hour), "a", "b")
	multi, mp := f.pollStatus(t, author, Public, true, now.Add(time.Hour), "a", "b", "c")
	if err := f.s.AddRemoteVote(ctx, sp.ID, remote[0], 0, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{0, 1} {
		if err := f.s.AddRemoteVote(ctx, sp.ID, remote[0], c, now); !errors.Is(err, ErrAlreadyVoted) {
			t.Errorf("a second vote (%d) in a single-choice poll: %v", c, err)
		}
	}
	if err := f.s.AddRemoteVote(ctx, sp.ID, remote[1], 2, now); !errors.Is(err, ErrConflict) {
		t.Errorf("a choice not among the options: %v", err)
	}
	if err := f.s.AddRemoteVote(ctx, sp.ID, remote[1], 1, now.Add(2*time.Hour)); !errors.Is(err, ErrPollExpired) {
		t.Errorf("a vote after the end: %v", err)
	}
	if got := f.pollAs(t, remote[0], single.ID); !slices.Equal(tallies(got), []int64{1, 0}) || got.VotersCount != 1 || got.VotesCount != 1 ||
		!slices.Equal(got.OwnVotes, []int{0}) {
		t.Errorf("single-choice poll: %+v", got)
	}
	for _, c := range []int{2, 0, 2} {
		_ = f.s.AddRemoteVote(ctx, mp.ID, remote[0], c, now)
	}
	if err := f.s.AddRemoteVote(ctx, mp.ID, remote[1], 2, now); err != nil {
		t.Fatal(err)
	}
	if got := f.pollAs(t, remote[0], multi.ID); !slices.Equal(tallies(got), []int64{1, 0, 2}) || got.VotersCount != 2 || got.VotesCount != 3 ||
		!slices.Equal(got.OwnVotes, []int{0, 2}) {
		t.Errorf("multiple-choice poll: %+v", got)
	}
	wantCountersMatchRecount(t, f)
}
