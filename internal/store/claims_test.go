package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Two processes claiming from one queue at once never lease the same job:
// each of many jobs is claimed exactly once between them.
func TestTwoProcessesNeverClaimTheSameJob(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	a := open(t, path)
	defer a.Close()
	b := open(t, path) // a second process on the same database
	defer b.Close()
	const jobs = 300
	for i := range jobs {
		if err := a.Enqueue(ctx, NewJob{Kind: "test.claim", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		st := a
		if w%2 == 1 {
			st = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := st.ClaimJobs(ctx, time.Now(), time.Hour, 3, "test.claim")
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					claimed[j.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claimed) != jobs {
		t.Errorf("%d jobs claimed; want %d", len(claimed), jobs)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("job %d claimed %d times", id, n)
		}
	}
}

// A job whose process is gone (its id worker lease ended: killed, not
// renewing) is taken by another process at once, long before the job's
// own lease would end; a live process's job is not.
func TestAJobOfAGoneProcessIsDueAgain(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	a := open(t, path)
	defer a.Close()
	b := open(t, path)
	defer b.Close()
	now := time.Now()
	if _, err := a.ClaimIDWorker(ctx, "process a", 32, now, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ClaimIDWorker(ctx, "process b", 32, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := a.Enqueue(ctx, NewJob{Kind: "test.gone", RunAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, err := a.ClaimJobs(ctx, now, time.Hour, 10, "test.gone")
	if err != nil || len(got) != 1 {
		t.Fatalf("a's claim: %v, %v", got, err)
	}
	// a is alive: its job is its own.
	if due, err := b.JobsDue(ctx, now.Add(time.Second), "test.gone"); due || err != nil {
		t.Fatalf("a live process's job is due to others: %v, %v", due, err)
	}
	if got, err := b.ClaimJobs(ctx, now.Add(time.Second), time.Hour, 10, "test.gone"); len(got) != 0 || err != nil {
		t.Fatalf("b took a live process's job: %v, %v", got, err)
	}
	// a stops renewing; 20 s on, its id worker lease has ended, the job's
	// own lease (an hour) has not.
	later := now.Add(20 * time.Second)
	if due, err := b.JobsDue(ctx, later, "test.gone"); !due || err != nil {
		t.Fatalf("a gone process's job: due %v, %v; want due", due, err)
	}
	got, err = b.ClaimJobs(ctx, later, time.Hour, 10, "test.gone")
	if err != nil || len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("b's claim of the gone process's job: %+v, %v; want it, at its second attempt", got, err)
	}
	// Now b's, which is alive.
	if got, err := a.ClaimJobs(ctx, later, time.Hour, 10, "test.gone"); len(got) != 0 || err != nil {
		t.Fatalf("the job was claimed again from b: %v, %v", got, err)
	}
}
