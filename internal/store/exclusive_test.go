package store

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"
)

// Periodic work runs in one process at a time: while one store (a process)
// runs work of a name, another store on the same database skips it, and
// runs it again once the first is done.
func TestExclusivelyRunsInOneProcessAtATime(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	a := open(t, path)
	defer a.Close()
	if !testdb.Postgres() {
		ran, err := a.Exclusively(ctx, "janitor", func(context.Context) error { return nil })
		if !ran || err != nil {
			t.Fatalf("SQLite (one serving process): ran %v, %v; want it run", ran, err)
		}
		return
	}
	b := open(t, path) // a second process on the same database
	defer b.Close()
	inside, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	done := make(chan error, 1)
	go func() {
		_, err := a.Exclusively(ctx, "janitor", func(context.Context) error {
			runs.Add(1)
			close(inside)
			<-release
			return nil
		})
		done <- err
	}()
	<-inside
	ran, err := b.Exclusively(ctx, "janitor", func(context.Context) error { runs.Add(1); return nil })
	if ran || err != nil || runs.Load() != 1 {
		t.Fatalf("while the first round runs: ran %v, %v, %d runs; want it skipped", ran, err, runs.Load())
	}
	// Another name is not held up.
	if ran, err := b.Exclusively(ctx, "sweep", func(context.Context) error { return nil }); !ran || err != nil {
		t.Fatalf("other work: ran %v, %v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ran, err := b.Exclusively(ctx, "janitor", func(context.Context) error { runs.Add(1); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if ran {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock was not released after the round")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if runs.Load() != 2 {
		t.Fatalf("%d runs; want 2", runs.Load())
	}
}
