package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "j.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// start runs r until the test ends.
func start(t *testing.T, r *Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// A bound for a hang, not a speed target: the machine may be loaded.
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stats(t *testing.T, st *store.Store) store.JobStats {
	t.Helper()
	s, err := st.JobStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestAJobRunsOnceAndIsGone(t *testing.T) {
	st := openStore(t)
	r := New(st, quiet(), Options{Poll: time.Hour}) // only Wake brings it
	var runs atomic.Int64
	var got string
	r.Handle("k", func(_ context.Context, p []byte) error { got = string(p); runs.Add(1); return nil })
	start(t, r)
	if err := st.Enqueue(context.Background(), store.NewJob{Kind: "k", Payload: []byte(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	r.Wake()
	waitFor(t, "the job to run", func() bool { return runs.Load() == 1 && stats(t, st).Pending == 0 })
	time.Sleep(50 * time.Millisecond)
	if runs.Load() != 1 || got != `{"x":1}` {
		t.Fatalf("ran %d times with %q", runs.Load(), got)
	}
}

// A job that keeps failing is tried again after a backoff, MaxAttempts
// times in all, then buried with its last error; one that fails once
// succeeds on its retry.
func TestFailingJobsAreRetriedThenBuried(t *testing.T) {
	st := openStore(t)
	c := &clock{t: time.Now().Add(time.Second)} // after the jobs were enqueued
	r := New(st, quiet(), Options{Poll: 5 * time.Millisecond, MaxAttempts: 3})
	r.now = c.now
	var always, once atomic.Int64
	r.Handle("always", func(context.Context, []byte) error { always.Add(1); return errors.New("remote says 500") })
	r.Handle("once", func(context.Context, []byte) error {
		if once.Add(1) == 1 {
			return errors.New("first try fails")
		}
		return nil
	})
	ctx := context.Background()
	for _, k := range []string{"always", "once"} {
		if err := st.Enqueue(ctx, store.NewJob{Kind: k, Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	start(t, r)
	waitFor(t, "the first attempts", func() bool { return always.Load() == 1 && once.Load() == 1 })
	// Not due again until its backoff has passed.
	time.Sleep(50 * time.Millisecond)
	if always.Load() != 1 {
		t.Fatalf("retried before its backoff: %d attempts", always.Load())
	}
	for attempt := int64(2); attempt <= 3; attempt++ {
		// Only between runs: a clock moved past a running job's lease
		// would rightly hand that job to a second worker. And only once
		// the last failure is written, its backoff counted from the clock
		// as it was: moved earlier, the retry would be due after it.
		waitFor(t, "no job in hand", func() bool { return stats(t, st).Running == 0 })
		c.add(8 * time.Hour) // past any backoff
		r.Wake()
		waitFor(t, fmt.Sprintf("attempt %d", attempt), func() bool { return always.Load() >= attempt })
	}
	waitFor(t, "the failing job to be buried", func() bool {
		s := stats(t, st)
		return s.Dead == 1 && s.Pending == 0 && s.Running == 0
	})
	if always.Load() != 3 || once.Load() != 2 {
		t.Fatalf("attempts: always %d (want 3), once %d (want 2)", always.Load(), once.Load())
	}
}

// A handler that panics fails its job, which is retried; the runner goes
// on. A Permanent error buries at once. A kind the runner does not handle
// is left for one that does.
func TestPanicsFailTheJobAndPermanentErrorsBury(t *testing.T) {
	st := openStore(t)
	c := &clock{t: time.Now().Add(time.Second)} // after the jobs were enqueued
	r := New(st, quiet(), Options{Poll: 5 * time.Millisecond})
	r.now = c.now
	var tries atomic.Int64
	r.Handle("panics", func(context.Context, []byte) error {
		if tries.Add(1) == 1 {
			var m map[string]int
			m["boom"] = 1
		}
		return nil
	})
	var perm atomic.Int64
	r.Handle("bad", func(context.Context, []byte) error { perm.Add(1); return Permanent(errors.New("malformed payload")) })
	ctx := context.Background()
	for _, k := range []string{"panics", "bad", "unknown"} {
		if err := st.Enqueue(ctx, store.NewJob{Kind: k, Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	start(t, r)
	// Running == 0: the panicked job's failure is written (with its backoff
	// from the clock as it is now) before the clock moves past that backoff.
	waitFor(t, "the panic and the burial", func() bool {
		s := stats(t, st)
		return tries.Load() == 1 && s.Dead == 1 && s.Running == 0
	})
	c.add(time.Hour)
	r.Wake()
	waitFor(t, "the retry after the panic", func() bool { s := stats(t, st); return tries.Load() == 2 && s.Pending == 1 })
	if claimed, err := st.ClaimJobs(ctx, c.now(), time.Minute, 10); err != nil || len(claimed) != 1 || claimed[0].Kind != "unknown" || claimed[0].Attempts != 1 {
		t.Fatalf("the unknown kind: %+v %v; want it pending, never tried", claimed, err)
	}
	if perm.Load() != 1 {
		t.Fatalf("a permanent failure ran %d times", perm.Load())
	}
}

// A worker that dies keeps its claimed jobs only until their lease ends;
// then another runs them.
func TestACrashedWorkersJobsComeBackAfterTheLease(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if err := st.Enqueue(ctx, store.NewJob{Kind: "k", Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().Add(time.Second)} // after the jobs were enqueued
	// The crashed worker: it claimed, and never finished.
	if claimed, err := st.ClaimJobs(ctx, c.now(), time.Minute, 10); err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	r := New(st, quiet(), Options{Poll: 5 * time.Millisecond, Lease: time.Minute})
	r.now = c.now
	var runs atomic.Int64
	r.Handle("k", func(context.Context, []byte) error { runs.Add(1); return nil })
	start(t, r)
	time.Sleep(50 * time.Millisecond)
	if runs.Load() != 0 {
		t.Fatal("a leased job ran before its lease ended")
	}
	c.add(2 * time.Minute)
	waitFor(t, "the job after its lease", func() bool { return runs.Load() == 1 && stats(t, st).Pending == 0 })
}

// At most Workers jobs run at once.
func TestWorkersAreBounded(t *testing.T) {
	st := openStore(t)
	r := New(st, quiet(), Options{Poll: 5 * time.Millisecond, Workers: 2})
	var now, peak, done atomic.Int64
	release := make(chan struct{})
	r.Handle("k", func(context.Context, []byte) error {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		now.Add(-1)
		done.Add(1)
		return nil
	})
	for range 6 {
		if err := st.Enqueue(context.Background(), store.NewJob{Kind: "k", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	start(t, r)
	waitFor(t, "two jobs running", func() bool { return now.Load() == 2 })
	time.Sleep(50 * time.Millisecond)
	close(release)
	waitFor(t, "all six", func() bool { return done.Load() == 6 })
	if peak.Load() != 2 {
		t.Fatalf("%d jobs ran at once; the bound is 2", peak.Load())
	}
}

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 15 * time.Second, 2: 30 * time.Second, 5: 4 * time.Minute, 13: 12 * time.Hour, 40: 12 * time.Hour} {
		for range 20 {
			if d := Backoff(attempt); d < want*3/4 || d > want*5/4 {
				t.Fatalf("Backoff(%d) = %v; want %v ± 25%%", attempt, d, want)
			}
		}
	}
	var total time.Duration
	for a := 1; a < DefaultMaxAttempts; a++ {
		total += backoffBase(a)
	}
	if total < 48*time.Hour || total > 72*time.Hour {
		t.Fatalf("the retries span %v; about two and a half days is the aim", total)
	}
}

// A post's deferred fan-out is a job committed with the post: the author's
// own timeline has it at once, the followers' only once the job ran; a job
// left by a process that stopped runs after the restart, once.
func TestAFanOutCommittedBeforeAStopRunsAfterTheRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	st, err := storetest.OpenErr(t, path, quiet())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []int64
	for i, name := range []string{"author", "f1", "f2"} {
		a := &store.Account{ID: int64(100 + i), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateLocalAccount(ctx, a, &store.User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true,
			Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	for i, f := range ids[1:] {
		if _, err := st.Follow(ctx, int64(200+i), f, ids[0], store.FollowOptions{}, now); err != nil {
			t.Fatal(err)
		}
	}
	post := &store.Status{ID: 300, URI: "https://example.test/users/author/statuses/300", AccountID: ids[0], Local: true, Visibility: store.Public, CreatedAt: now}
	if err := st.CreateStatus(ctx, store.NewStatus{Status: post, DeferFanOut: true}); err != nil {
		t.Fatal(err)
	}
	home := func(st *store.Store, who int64) int {
		got, err := st.HomeTimeline(ctx, who, store.Page{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if home(st, ids[0]) != 1 || home(st, ids[1]) != 0 {
		t.Fatalf("before the job: author %d, follower %d; want 1 and 0", home(st, ids[0]), home(st, ids[1]))
	}
	st.Close() // the process stops before any runner ran

	st, err = storetest.OpenErr(t, path, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := New(st, quiet(), Options{Poll: 5 * time.Millisecond})
	var runs atomic.Int64
	r.Handle(store.KindFanOut, func(ctx context.Context, p []byte) error {
		runs.Add(1)
		var fp store.FanOutPayload
		if err := json.Unmarshal(p, &fp); err != nil || !fp.Pending {
			return Permanent(fmt.Errorf("payload %s", p))
		}
		return st.FanOutPending(ctx)
	})
	start(t, r)
	waitFor(t, "the fan-out after the restart", func() bool { return home(st, ids[1]) == 1 && home(st, ids[2]) == 1 })
	// The rows are in before the handler returns and its job is done.
	waitFor(t, "the fan-out job's end", func() bool { return stats(t, st).Pending == 0 })
	if err := st.FanOutPending(ctx); err != nil || home(st, ids[1]) != 1 {
		t.Fatalf("a second run of the fan-out: %v, %d rows", err, home(st, ids[1]))
	}
	if runs.Load() != 1 || stats(t, st).Pending != 0 {
		t.Fatalf("ran %d times, %d pending", runs.Load(), stats(t, st).Pending)
	}
}
