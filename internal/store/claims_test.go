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
