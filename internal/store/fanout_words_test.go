package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func pendingWordsOf(t testing.TB, f *counterFixture, id int64) []string {
	t.Helper()
	rows, err := f.s.read.QueryContext(context.Background(), `SELECT word FROM status_words WHERE status_id = ? ORDER BY word`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var w string
		rows.Scan(&w)
		out = append(out, w)
	}
	return out
}

// A pending row whose words are not a JSON array of strings (which
// pendingWords never writes) is skipped: it must not stop every author's
// fan-out and search words for ever.
func TestABadPendingRowStopsNoOtherFanOut(t *testing.T) {
	for _, bad := range []string{`[`, `[null]`} {
		t.Run(bad, func(t *testing.T) {
			ctx := context.Background()
			f := newCounterFixture(t, 3)
			a, b, fan := f.accounts[0], f.accounts[1], f.accounts[2]
			now := time.Now()
			if _, err := f.s.Follow(ctx, f.id(), fan, b, FollowOptions{ShowReblogs: true}, now); err != nil {
				t.Fatal(err)
			}
			bad1 := &Status{ID: f.id(), URI: "https://example.test/s/bad", AccountID: a, Local: true, Visibility: Public, CreatedAt: now}
			good := &Status{ID: f.id(), URI: "https://example.test/s/good", AccountID: b, Local: true, Visibility: Public, CreatedAt: now}
			for _, st := range []*Status{bad1, good} {
				if err := f.s.CreateStatus(ctx, NewStatus{Status: st, DeferFanOut: true, Words: []string{"hello"}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.s.write.ExecContext(ctx, `UPDATE fanout_pending SET words = ? WHERE status_id = ?`, bad, bad1.ID); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := f.s.FanOutPending(ctx); err != nil {
					t.Errorf("FanOutPending: %v", err)
				}
			}
			var home int
			f.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM home_feed WHERE account_id = ? AND status_id = ?`, fan, good.ID).Scan(&home)
			if home != 1 || len(pendingWordsOf(t, f, good.ID)) != 1 {
				t.Errorf("another author's status: %d home rows, words %v; want 1 and [hello]", home, pendingWordsOf(t, f, good.ID))
			}
		})
	}
}

// A status deleted before its fan-out takes its waiting words with it: a
// status that takes its id again (a remote status's id is id.At of its
// claimed time, +1 on a clash) never gets the deleted post's words.
func TestPendingWordsGoWithTheirStatus(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	a, b := f.accounts[0], f.accounts[1]
	now := time.Now()
	id := f.id()
	old := &Status{ID: id, URI: "https://example.test/s/old", AccountID: a, Local: true, Visibility: Private, CreatedAt: now}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: old, DeferFanOut: true, Words: []string{"secretword"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteStatus(ctx, old, nil); err != nil {
		t.Fatal(err)
	}
	other := &Status{ID: id, URI: "https://example.test/s/other", AccountID: b, Local: true, Visibility: Public, CreatedAt: now}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: other, Words: []string{"innocent"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.FanOutPending(ctx); err != nil {
		t.Fatal(err)
	}
	if w := pendingWordsOf(t, f, id); strings.Join(w, ",") != "innocent" {
		t.Errorf("words of another author's status that took the id: %v; want [innocent]", w)
	}
}

// Pending fan-outs whose job was buried (and no post since enqueued
// another) get a job from EnsureFanOutJob; with one due, no second.
func TestPendingFanOutsWithoutAJobGetOne(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	now := time.Now()
	if added, err := f.s.EnsureFanOutJob(ctx, now); err != nil || added {
		t.Fatalf("nothing pending: added %v (%v)", added, err)
	}
	st := &Status{ID: f.id(), URI: "https://example.test/s/p", AccountID: f.accounts[0], Local: true, Visibility: Public, CreatedAt: now}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: st, DeferFanOut: true}); err != nil {
		t.Fatal(err)
	}
	if added, err := f.s.EnsureFanOutJob(ctx, now); err != nil || added {
		t.Fatalf("a job is due: added %v (%v)", added, err)
	}
	if _, err := f.s.write.ExecContext(ctx, `UPDATE jobs SET state = 'dead' WHERE kind = ?`, KindFanOut); err != nil {
		t.Fatal(err)
	}
	if added, err := f.s.EnsureFanOutJob(ctx, now); err != nil || !added {
		t.Fatalf("the job was buried: added %v (%v)", added, err)
	}
	if js, _ := f.s.JobStats(ctx); js.Pending != 1 {
		t.Errorf("%d jobs pending; want the one added", js.Pending)
	}
}

// Whatever a pending row's words hold (only pendingWords writes them, but a
// database edited by hand or damaged may hold anything), the fan-out job
// goes on: the other statuses are written, and only text becomes a word.
func FuzzPendingWords(f *testing.F) {
	for _, seed := range []string{`["hello","world"]`, `[`, `[null]`, `[1,{"a":2},["x"]]`, `"text"`, `{}`, ``, `[""]`} {
		f.Add(seed)
	}
	fx := newCounterFixture(f, 2)
	ctx := context.Background()
	a, fan := fx.accounts[0], fx.accounts[1]
	if _, err := fx.s.Follow(ctx, fx.id(), fan, a, FollowOptions{ShowReblogs: true}, time.Now()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, words string) {
		bad := &Status{ID: fx.id(), URI: "https://example.test/s/bad" + strconv.FormatInt(fx.next.Load(), 10), AccountID: a, Local: true, Visibility: Public, CreatedAt: time.Now()}
		good := &Status{ID: fx.id(), URI: "https://example.test/s/good" + strconv.FormatInt(fx.next.Load(), 10), AccountID: a, Local: true, Visibility: Public, CreatedAt: time.Now()}
		for _, st := range []*Status{bad, good} {
			if err := fx.s.CreateStatus(ctx, NewStatus{Status: st, DeferFanOut: true, Words: []string{"kept"}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := fx.s.write.ExecContext(ctx, `UPDATE fanout_pending SET words = ? WHERE status_id = ?`, words, bad.ID); err != nil {
			t.Fatal(err)
		}
		if err := fx.s.FanOutPending(ctx); err != nil {
			t.Fatalf("words %q stopped the fan-out: %v", words, err)
		}
		var home int
		if err := fx.s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM home_feed WHERE account_id = ? AND status_id IN (?, ?)`, fan, bad.ID, good.ID).Scan(&home); err != nil || home != 2 {
			t.Errorf("words %q: %d of 2 statuses reached the follower (%v)", words, home, err)
		}
		if w := pendingWordsOf(t, fx, good.ID); len(w) != 1 || w[0] != "kept" {
			t.Errorf("words %q: the other status's words are %v", words, w)
		}
	})
}
