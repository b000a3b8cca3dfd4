package logging

import (
	"io"
	"log/slog"
	"sync"

	"github.com/rampart-social/rampart/internal/safely"
)

// maxPendingBytes bounds the log lines waiting for the destination. Past it,
// a writer waits as it would on an unbuffered write, so a stalled journald
// slows logging down instead of growing the heap.
const maxPendingBytes = 256 << 10

// maxKeptBuffer is the largest buffer kept for reuse after a burst (a panic's
// stack can make one line long); a larger one is left to the collector.
const maxKeptBuffer = 1 << 20

// batchWriter gathers the log lines written while the previous ones are being
// written out and hands them to the destination in one write. Under load the
// request log was a write system call per request, about 6 % of the CPU of a
// cheap endpoint; one goroutine writing batches costs a system call per
// batch instead. An idle line is written at once (the writer is woken per
// line), in order, and whole: each Write is one slog record.
//
// What a crash that skips Close can lose is the lines of the last batch in
// flight, a few milliseconds' worth; recovered panics and shutdown lose
// nothing (Close drains).
type batchWriter struct {
	out  io.Writer
	wake chan struct{}
	stop chan struct{}
	done <-chan error

	closing sync.Once

	mu      sync.Mutex
	space   *sync.Cond // signalled when the pending lines are taken
	pending []byte
	spare   []byte
	closed  bool
}

// newBatchWriter starts the goroutine that writes to out; Close stops it.
func newBatchWriter(out io.Writer) *batchWriter {
	w := &batchWriter{out: out, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	w.space = sync.NewCond(&w.mu)
	// The writer's own panic, were there one, is logged straight to out.
	group := safely.NewGroup(slog.New(slog.NewJSONHandler(out, nil)))
	w.done = group.Go("log writer", func() error {
		w.run()
		return nil
	})
	return w
}

// Write queues p (copied: slog reuses its buffer) and returns; after Close it
// writes p through.
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for !w.closed && len(w.pending) > 0 && len(w.pending)+len(p) > maxPendingBytes {
		w.space.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // already woken: the line goes with the next batch
	}
	return len(p), nil
}

func (w *batchWriter) run() {
	for {
		select {
		case <-w.wake:
			w.flush()
		case <-w.stop:
			w.flush()
			return
		}
	}
}

// flush writes what is pending. A write error loses those lines, as it
// would have unbuffered: the log has nowhere else to go.
func (w *batchWriter) flush() {
	w.mu.Lock()
	batch := w.pending
	w.pending = w.spare[:0]
	w.spare = nil
	w.space.Broadcast()
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	_, _ = w.out.Write(batch)
	if cap(batch) <= maxKeptBuffer {
		w.mu.Lock()
		w.spare = batch[:0]
		w.mu.Unlock()
	}
}

// Close writes what is pending and stops the goroutine; later lines are
// written through. It is safe to call more than once.
func (w *batchWriter) Close() error {
	w.closing.Do(func() {
		close(w.stop)
		<-w.done
		w.mu.Lock()
		defer w.mu.Unlock()
		w.closed = true
		// Lines queued after the goroutine's last flush.
		if len(w.pending) > 0 {
			_, _ = w.out.Write(w.pending)
			w.pending = nil
		}
		w.space.Broadcast()
	})
	return nil
}
