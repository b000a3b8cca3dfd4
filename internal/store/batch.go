package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rampart-social/rampart/internal/safely"
)

// writeBatches combines write transactions that arrive while the writer is
// busy into one (group commit). SQLite has one writer, so concurrent posts
// queue for it anyway; what one commit costs — its WAL frames, one per page
// written, and the pages every post touches (the newest leaf of statuses
// and of its id-ordered indexes, the instance counters) — is then paid once
// per batch rather than once per post. A batch needs no waiting: whoever
// finds the writer free leads at once with what is queued, its own work
// first; work queued meanwhile goes to the next leader.
type writeBatches struct {
	mu      sync.Mutex
	queue   []*batchedWrite
	leading bool // a leader is running a batch; the queue waits for it
}

type batchedWrite struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *writeTx) error
	done chan batchOutcome // buffered: a leader never waits on it
}

type batchOutcome struct {
	err  error
	lead bool // run the next batch instead
}

// errBatchAborted is the error of a batch whose leader stopped before its
// outcome was known: its transaction was rolled back.
var errBatchAborted = errors.New("write: the transaction was abandoned")

// maxBatch bounds the writes one transaction combines: the batch holds the
// writer for all of them.
const maxBatch = 16

// inWriteBatch runs fn in a write transaction, possibly with other callers'
// work, each in a savepoint of its own: fn's changes commit or roll back as
// if its transaction were its own, and its error is its own. fn must use
// only tx. The transaction does not end with ctx (it carries others' work),
// and fn's statements are not interrupted by it: a post whose client left
// mid-write is still saved, as it was when it ran alone past its BEGIN.
func (s *Store) inWriteBatch(ctx context.Context, fn func(ctx context.Context, tx *writeTx) error) error {
	w := &batchedWrite{ctx: ctx, fn: fn, done: make(chan batchOutcome, 1)}
	b := &s.batches
	b.mu.Lock()
	b.queue = append(b.queue, w)
	if b.leading {
		b.mu.Unlock()
		out := <-w.done
		if !out.lead {
			return out.err
		}
	} else {
		b.leading = true
		b.mu.Unlock()
	}
	// Leading: w is first in the queue (a queue is never left without a
	// leader, and a leader hands over to the first it leaves).
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	batch := make([]*batchedWrite, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	b.mu.Unlock()
	var errs []error
	// Whatever ends the batch — its return, a panic, runtime.Goexit — the
	// others hear how theirs went and the writer passes on: otherwise every
	// later write would wait for ever.
	defer func() {
		if errs == nil {
			errs = make([]error, len(batch))
			for i := range errs {
				errs[i] = errBatchAborted
			}
		}
		for i, o := range batch[1:] {
			o.done <- batchOutcome{err: errs[i+1]}
		}
		b.mu.Lock()
		if len(b.queue) > 0 {
			b.queue[0].done <- batchOutcome{lead: true}
		} else {
			b.leading = false
		}
		b.mu.Unlock()
	}()
	errs = s.runWriteBatch(batch)
	return errs[0]
}

// runWriteBatch runs the batch in one transaction and returns each write's
// error. A panic in one is that one's error (safely.Do), so the others and
// the writers queued behind them go on.
func (s *Store) runWriteBatch(batch []*batchedWrite) []error {
	errs := make([]error, len(batch))
	// When the transaction fails, every write fails with it, whatever its
	// own outcome was (an error may name what another write of the batch
	// did, such as the status an idempotency key points to).
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	ctx := context.WithoutCancel(batch[0].ctx)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fail(fmt.Errorf("write: %w", err))
	}
	defer tx.Rollback()
	alone := len(batch) == 1
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err // its caller has gone before it began
			continue
		}
		if !alone {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT batched_write`); err != nil {
				return fail(fmt.Errorf("write: %w", err))
			}
		}
		errs[i] = safely.Do(s.log, "a batched write", func() error { return w.fn(context.WithoutCancel(w.ctx), tx) })
		if alone {
			break
		}
		if errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO batched_write`); err != nil {
				return fail(fmt.Errorf("write: %w", err))
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE batched_write`); err != nil {
			return fail(fmt.Errorf("write: %w", err))
		}
	}
	if alone && errs[0] != nil {
		return errs
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("write: %w", err))
	}
	return errs
}
