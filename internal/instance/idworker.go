package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/store"
)

// The id worker lease: long enough that a slow moment of the database does
// not cost a live process its number, short enough that a dead process's
// number, and the jobs it had claimed (store.leaseEndedSQL), are soon
// another's. It is renewed three times per lease.
const (
	idWorkerLease = 15 * time.Second
	idWorkerRenew = idWorkerLease / 3
)

// idWorker holds this process's id worker number (internal/id) for as long
// as the instance is open, from Open to Close: serving processes and admin
// commands alike make ids, and two sharing a database never make the same.
type idWorker struct {
	store  *store.Store
	ids    *id.Generator
	log    *slog.Logger
	holder string

	mu sync.Mutex
	n  int

	stop func()
}

// leaseIDWorker claims a worker number for ids and keeps it renewed.
func leaseIDWorker(ctx context.Context, st *store.Store, ids *id.Generator, log *slog.Logger) (*idWorker, error) {
	w := &idWorker{store: st, ids: ids, log: log, holder: id.Secret()}
	n, err := st.ClaimIDWorker(ctx, w.holder, id.Workers, time.Now(), idWorkerLease)
	if err != nil {
		return nil, fmt.Errorf("id worker: %w", err)
	}
	w.n = n
	ids.SetWorker(n)
	stop, done := make(chan struct{}), make(chan struct{})
	w.stop = sync.OnceFunc(func() { close(stop); <-done })
	_ = safely.NewGroup(log).Go("id worker lease", func() error {
		defer close(done)
		t := time.NewTicker(idWorkerRenew)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return nil
			case <-t.C:
				w.renew()
			}
		}
	})
	return w, nil
}

// renew extends the lease; a number lost (the lease ran out while the
// database was out of reach, and another process took it) is replaced by a
// fresh one before more ids are made with it.
func (w *idWorker) renew() {
	ctx, cancel := context.WithTimeout(context.Background(), idWorkerRenew)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	held, err := w.store.RenewIDWorker(ctx, w.n, w.holder, time.Now(), idWorkerLease)
	if err != nil {
		w.log.Warn("renewing the id worker lease", "worker", w.n, "err", err)
		return
	}
	if held {
		return
	}
	n, err := w.store.ClaimIDWorker(ctx, w.holder, id.Workers, time.Now(), idWorkerLease)
	if err != nil {
		w.log.Error("the id worker lease was lost and no number is free", "worker", w.n, "err", err)
		return
	}
	w.log.Warn("the id worker lease was lost; took another number", "was", w.n, "now", n)
	w.n = n
	w.ids.SetWorker(n)
}

// release stops renewing and frees the number for the next process.
func (w *idWorker) release() error {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.store.ReleaseIDWorker(ctx, w.n, w.holder); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
