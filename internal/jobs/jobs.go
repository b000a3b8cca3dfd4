// Package jobs runs the durable background work: rows in the store's job
// queue, written in the same transaction as the change that causes them,
// claimed by workers with a lease, retried with backoff and jitter, buried
// when they keep failing. A job runs at least once: a worker that dies
// leaves its jobs to be claimed again when their lease ends, so every
// handler must be idempotent. Handlers run through safely: a panic fails
// the job (and is retried), never the process.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/rampart-social/rampart/internal/safely"
	"github.com/rampart-social/rampart/internal/store"
)

// Handler does one job of a kind, given its payload. An error retries it
// (Permanent buries it at once).
type Handler func(ctx context.Context, payload []byte) error

// permanentError is a failure that a retry cannot mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one no retry can mend (a malformed payload): the
// job is buried at once.
func Permanent(err error) error { return &permanentError{err: err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var perm *permanentError
	return errors.As(err, &perm)
}

// deferError puts a job off without counting an attempt.
type deferError struct {
	until time.Time
	why   string
}

func (e *deferError) Error() string { return "deferred: " + e.why }

// Defer puts the job off until until, without counting the attempt: it was
// not tried (its host's circuit is open, or it has as many deliveries in
// flight as it may).
func Defer(until time.Time, why string) error { return &deferError{until: until, why: why} }

// Options tune a Runner; zero values take the defaults.
type Options struct {
	// Workers is how many jobs run at once (DefaultWorkers).
	Workers int
	// Lease is how long a claimed job is its worker's; a handler gets a
	// little less to finish (DefaultLease).
	Lease time.Duration
	// Poll is how often an idle runner looks for due jobs, besides Wake
	// (DefaultPoll).
	Poll time.Duration
	// MaxAttempts is how many times a job is tried before it is buried
	// (DefaultMaxAttempts).
	MaxAttempts int
	// SkipHosts, when set, names the hosts whose jobs are not to be
	// claimed now (busy, or their circuit open): they wait unclaimed.
	SkipHosts func() []string
}

// Defaults.
const (
	DefaultWorkers     = 4
	DefaultLease       = 5 * time.Minute
	DefaultPoll        = time.Second
	DefaultMaxAttempts = 16
)

// Runner claims and runs jobs.
type Runner struct {
	store    *store.Store
	log      *slog.Logger
	opts     Options
	handlers map[string]Handler
	kinds    []string
	wake     chan struct{}
	now      func() time.Time
}

// New returns a runner over st; register handlers before Run.
func New(st *store.Store, log *slog.Logger, o Options) *Runner {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	return &Runner{store: st, log: log, opts: o, handlers: map[string]Handler{}, wake: make(chan struct{}, 1), now: time.Now}
}

// Handle registers the handler of kind. Call it before Run. A runner
// claims only the kinds it handles: a kind no runner here handles waits
// for one that does (another process, a newer version).
func (r *Runner) Handle(kind string, h Handler) {
	r.handlers[kind] = h
	r.kinds = append(r.kinds, kind)
}

// Wake tells the runner that a job was committed, so that it looks now
// rather than at its next poll. It never blocks.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Backoff is how long a job waits after its attempt-th failure: 15 s
// doubling to at most 12 hours, with ±25% jitter so that jobs that failed
// together do not come back together. DefaultMaxAttempts tries span about
// two and a half days, the window peers give a server that is down.
func Backoff(attempt int) time.Duration {
	d := backoffBase(attempt)
	return d + time.Duration((rand.Float64()-0.5)*0.5*float64(d))
}

// maxBackoff caps the wait between two attempts.
const maxBackoff = 12 * time.Hour

func backoffBase(attempt int) time.Duration {
	d := 15 * time.Second
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// Run claims and runs due jobs until ctx ends, then waits for the jobs in
// hand to finish (their handlers see ctx end too) and returns.
func (r *Runner) Run(ctx context.Context) {
	w := &workers{slots: make(chan struct{}, r.opts.Workers), freed: make(chan struct{}, 1), group: safely.NewGroup(r.log)}
	defer w.group.Wait()
	tick := time.NewTicker(r.opts.Poll)
	defer tick.Stop()
	for {
		if free := cap(w.slots) - len(w.slots); free > 0 {
			n, err := r.claimAndStart(ctx, free, w)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("claiming jobs", "err", err)
			}
			if n == free && ctx.Err() == nil {
				continue // there may be more due: claim again as slots free
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-tick.C:
		case <-w.freed:
		}
	}
}

// workers are the jobs in hand: a slot each, and a signal when one frees.
type workers struct {
	slots chan struct{}
	freed chan struct{}
	group *safely.Group
}

// claimAndStart claims up to n due jobs and starts each in a slot.
func (r *Runner) claimAndStart(ctx context.Context, n int, w *workers) (int, error) {
	now := r.now()
	if len(r.kinds) == 0 {
		return 0, nil
	}
	var skip []string
	if r.opts.SkipHosts != nil {
		skip = r.opts.SkipHosts()
	}
	due, err := r.store.JobsDueExcept(ctx, now, r.kinds, skip)
	if err != nil || !due {
		return 0, err
	}
	claimed, err := r.store.ClaimJobsExcept(ctx, now, r.opts.Lease, n, r.kinds, skip)
	if err != nil {
		return 0, err
	}
	for _, j := range claimed {
		w.slots <- struct{}{}
		_ = w.group.Go("job "+j.Kind, func() error {
			defer func() {
				<-w.slots
				select {
				case w.freed <- struct{}{}:
				default:
				}
			}()
			r.run(ctx, j)
			return nil
		})
	}
	return len(claimed), nil
}

// run does one claimed job and records the outcome.
func (r *Runner) run(ctx context.Context, j store.Job) {
	h := r.handlers[j.Kind]
	var err error
	if h == nil {
		err = Permanent(errors.New("no handler for job kind " + j.Kind))
	} else {
		// Within the lease, so the job is not claimed twice while it runs.
		hctx, cancel := context.WithTimeout(ctx, r.opts.Lease-r.opts.Lease/10)
		err = safely.Do(r.log, "job "+j.Kind, func() error { return h(hctx, j.Payload) })
		cancel()
	}
	// The outcome is recorded even when the runner is stopping: a job cut
	// short is put back, not left leased for the whole lease.
	octx := context.WithoutCancel(ctx)
	var perm *permanentError
	var put *deferError
	switch {
	case err == nil:
		err = r.store.CompleteJob(octx, j.ID)
	case errors.As(err, &put):
		err = r.store.DeferJob(octx, j.ID, put.until, put.why)
	case errors.As(err, &perm) || j.Attempts >= r.opts.MaxAttempts:
		r.log.Warn("job buried", "kind", j.Kind, "id", j.ID, "attempts", j.Attempts, "err", err)
		err = r.store.BuryJob(octx, j.ID, err.Error())
	default:
		r.log.Info("job failed; will retry", "kind", j.Kind, "id", j.ID, "attempts", j.Attempts, "err", err)
		err = r.store.RetryJob(octx, j.ID, r.now().Add(Backoff(j.Attempts)), err.Error())
	}
	if err != nil {
		// Its lease ends, and it runs again: at least once.
		r.log.Error("recording a job's outcome", "kind", j.Kind, "id", j.ID, "err", err)
	}
}
