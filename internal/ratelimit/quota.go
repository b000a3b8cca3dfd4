package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Quota is what is left of a key's allowance in its window: what the API
// tells clients in its X-RateLimit-Limit, -Remaining and -Reset headers.
type Quota struct {
	Limit     int
	Remaining int
	Reset     time.Time // when the window ends and the allowance is whole again
}

// Report collects, for one request, the tightest quota of the limits its
// work took from (a post takes from the account's posting limit, say), so
// that the answer can carry it without every service returning it.
type Report struct {
	mu    sync.Mutex
	quota Quota
	set   bool
}

type reportKey struct{}

// WithReport returns a context whose limits report to the returned Report.
func WithReport(ctx context.Context) (context.Context, *Report) {
	r := &Report{}
	return context.WithValue(ctx, reportKey{}, r), r
}

// Quota is the tightest quota reported, if any limit was taken from.
func (r *Report) Quota() (Quota, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.quota, r.set
}

// reportQuota keeps q in ctx's Report when it leaves less than what the
// Report holds: a request limited twice is as limited as its tighter limit.
func reportQuota(ctx context.Context, q Quota) {
	r, _ := ctx.Value(reportKey{}).(*Report)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.set || q.Remaining < r.quota.Remaining {
		r.quota, r.set = q, true
	}
}
