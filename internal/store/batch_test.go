package store

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/safely"
)

// Writes that queue while the writer is busy share one transaction, and
// each still commits or fails alone: an error or a panic in one rolls back
// only its own changes, and the writes after it go on.
func TestBatchedWritesCommitOrFailAlone(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "rampart.db"))
	defer s.Close()
	release := make(chan struct{})
	var mu sync.Mutex
	txs := map[*writeTx]int{}
	write := func(key string, then func() error) func(context.Context, *writeTx) error {
		return func(ctx context.Context, tx *writeTx) error {
			mu.Lock()
			txs[tx]++
			mu.Unlock()
			if _, err := tx.ExecContext(ctx, `INSERT INTO instance_settings (key, value, updated_at) VALUES (?, 'v', '')`, key); err != nil {
				return err
			}
			return then()
		}
	}
	errBad := errors.New("refused")
	// The first holds the writer until the others have queued.
	first, holding := make(chan error, 1), make(chan struct{})
	go func() {
		first <- s.inWriteBatch(ctx, write("first", func() error { close(holding); <-release; return nil }))
	}()
	<-holding
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.inWriteBatch(ctx, write("k"+strconv.Itoa(i), func() error {
				switch i {
				case 3:
					return errBad
				case 7:
					panic("a bug")
				}
				return nil
			}))
		}()
	}
	for queued := 0; queued < n; {
		time.Sleep(time.Millisecond)
		s.batches.mu.Lock()
		queued = len(s.batches.queue)
		s.batches.mu.Unlock()
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		var pe *safely.PanicError
		switch {
		case i == 3 && !errors.Is(err, errBad), i == 7 && !errors.As(err, &pe), i != 3 && i != 7 && err != nil:
			t.Errorf("write %d: %v", i, err)
		}
		_, ok, rerr := s.Setting(ctx, "k"+strconv.Itoa(i))
		if rerr != nil || ok != (i != 3 && i != 7) {
			t.Errorf("write %d (error %v): stored %v (%v)", i, err, ok, rerr)
		}
	}
	if len(txs) > 3 {
		t.Errorf("%d writes ran in %d transactions; those queued together must share one", n+1, len(txs))
	}
	// The writer is free again: a write alone runs at once.
	if err := s.inWriteBatch(ctx, write("after", func() error { return nil })); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Setting(ctx, "after"); !ok {
		t.Error("a write after the batches was not stored")
	}
}

// When a batch's commit fails, every write in it fails, including one whose
// own outcome named another's work: a second post with the same
// idempotency key must not be told the first one's status exists.
func TestAFailedBatchFailsEveryWrite(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	s, author := f.s, f.accounts[0]
	release, holding, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		first <- s.inWriteBatch(ctx, func(context.Context, *writeTx) error { close(holding); <-release; return nil })
	}()
	<-holding
	queued := func(n int) {
		for {
			s.batches.mu.Lock()
			q := len(s.batches.queue)
			s.batches.mu.Unlock()
			if q >= n {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	post := func(id int64) *Status {
		return &Status{ID: id, URI: "https://example.test/s/" + strconv.FormatInt(id, 10), AccountID: author, Local: true, Visibility: Public, CreatedAt: time.Now()}
	}
	errA, errB, errC := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() { errA <- s.CreateStatus(ctx, NewStatus{Status: post(f.id()), IdempotencyKey: "same"}) }()
	queued(1)
	go func() { errB <- s.CreateStatus(ctx, NewStatus{Status: post(f.id()), IdempotencyKey: "same"}) }()
	queued(2)
	// A write that makes the COMMIT fail: a foreign key checked only then
	// (on PostgreSQL, a deferrable one of a table made for the test).
	deferFKs, insert := `PRAGMA defer_foreign_keys = ON`, `INSERT INTO mentions (status_id, account_id) VALUES (?, ?)`
	if s.Engine() == dialectPostgres {
		if _, err := s.write.ExecContext(ctx, `CREATE TABLE commit_check (status_id BIGINT REFERENCES statuses (id) DEFERRABLE INITIALLY DEFERRED, account_id BIGINT)`); err != nil {
			t.Fatal(err)
		}
		deferFKs, insert = `SET CONSTRAINTS ALL DEFERRED`, `INSERT INTO commit_check (status_id, account_id) VALUES (?, ?)`
	}
	go func() {
		errC <- s.inWriteBatch(ctx, func(ctx context.Context, tx *writeTx) error {
			if _, err := tx.ExecContext(ctx, deferFKs); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, insert, 999999999, author)
			return err
		})
	}()
	queued(3)
	close(release)
	if err := <-first; err != nil { // its batch was its own
		t.Fatal(err)
	}
	for name, ch := range map[string]chan error{"A": errA, "B": errB, "C": errC} {
		err := <-ch
		var dup *ErrDuplicateKey
		if err == nil || errors.As(err, &dup) || !strings.Contains(strings.ToUpper(err.Error()), "FOREIGN KEY") {
			t.Errorf("write %s of a batch whose commit failed: %v; want the commit's error", name, err)
		}
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM statuses`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d statuses stored by a failed batch (%v)", n, err)
	}
}
