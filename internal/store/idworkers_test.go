package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// Each process holds its own worker number while its lease lasts; a lease
// that ran out, or was released, goes to the next process; when every
// number is held, a process is refused rather than given a taken one.
func TestIDWorkerLeases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	a := open(t, path)
	defer a.Close()
	b := open(t, path) // another process
	defer b.Close()
	now := time.Now()
	n1, err := a.ClaimIDWorker(ctx, "one", 3, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := b.ClaimIDWorker(ctx, "two", 3, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	n3, err := a.ClaimIDWorker(ctx, "three", 3, now, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n1 == n2 || n2 == n3 || n1 == n3 {
		t.Fatalf("numbers %d, %d, %d; want three different", n1, n2, n3)
	}
	if _, err := b.ClaimIDWorker(ctx, "four", 3, now, time.Minute); !errors.Is(err, ErrNoIDWorker) {
		t.Fatalf("a fourth process with three numbers: %v; want ErrNoIDWorker", err)
	}
	if held, err := b.RenewIDWorker(ctx, n1, "someone else", now, time.Minute); held || err != nil {
		t.Fatalf("renewing another's number: held %v, %v", held, err)
	}
	// "three" stops renewing: its number goes to the next process once the
	// lease ends, and "three" learns it lost it.
	later := now.Add(30 * time.Second)
	n4, err := b.ClaimIDWorker(ctx, "four", 3, later, time.Minute)
	if err != nil || n4 != n3 {
		t.Fatalf("after the lease ran out: %d, %v; want number %d", n4, err, n3)
	}
	if held, err := a.RenewIDWorker(ctx, n3, "three", later, time.Minute); held || err != nil {
		t.Fatalf("the old holder renewing: held %v, %v; want it told the number is lost", held, err)
	}
	if held, err := a.RenewIDWorker(ctx, n1, "one", later, time.Minute); !held || err != nil {
		t.Fatalf("renewing its own: held %v, %v", held, err)
	}
	if err := a.ReleaseIDWorker(ctx, n1, "one"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.ClaimIDWorker(ctx, "five", 3, later, time.Minute); err != nil || n != n1 {
		t.Fatalf("after a release: %d, %v; want number %d", n, err, n1)
	}
}
