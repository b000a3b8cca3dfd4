// Package delivery sends activities to other servers' inboxes: one job
// (store.KindDeliver) per activity and inbox, signed as the local actor
// that acts, through the outbound guard. It is where a failing host is
// handled: retries with the queue's backoff, a circuit breaker per host
// that stops contacting a host that keeps failing until a cool-down ends,
// a host unreachable for 7 days marked unavailable (its deliveries dropped
// until it is heard from), no delivery to a blocked domain, and bounds on
// how many deliveries are in flight, globally (the job runner's workers)
// and per host.
package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/rampart-social/rampart/internal/activitypub"
	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/outbound"
	"github.com/rampart-social/rampart/internal/store"
)

// Signers give local actors' signing keys (accounts.Service).
type Signers interface {
	SigningKey(ctx context.Context, accountID int64) (httpsig.Key, error)
}

// Options tune a Deliverer; zero values take the defaults.
type Options struct {
	// PerHost bounds the deliveries in flight to one host
	// (DefaultPerHost).
	PerHost int
	// BreakAfter is how many failures in a row open a host's circuit
	// (DefaultBreakAfter).
	BreakAfter int
	// CoolDown is how long an open circuit keeps a host from being
	// contacted (DefaultCoolDown).
	CoolDown time.Duration
	// Timeout bounds one delivery (DefaultTimeout).
	Timeout time.Duration
}

// Defaults.
const (
	DefaultPerHost    = 4
	DefaultBreakAfter = 5
	DefaultCoolDown   = 5 * time.Minute
	DefaultTimeout    = 30 * time.Second
)

// maxResponse is how much of an inbox's answer is read (and dropped): a
// peer's error page tells nothing worth more.
const maxResponse = 16 << 10

// Deliverer runs delivery jobs.
type Deliverer struct {
	client  *outbound.Client
	signers Signers
	store   *store.Store
	log     *slog.Logger
	opts    Options
	now     func() time.Time

	mu    sync.Mutex
	hosts map[string]*hostState
}

// hostState is what the deliverer holds of one host in memory: its
// deliveries in flight and its circuit.
type hostState struct {
	inFlight  int
	failures  int       // in a row
	openUntil time.Time // the circuit is open (no contact) until then
	probing   bool      // the one delivery let through after a cool-down
}

// New returns a deliverer sending through client.
func New(client *outbound.Client, signers Signers, st *store.Store, log *slog.Logger, o Options) *Deliverer {
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.BreakAfter <= 0 {
		o.BreakAfter = DefaultBreakAfter
	}
	if o.CoolDown <= 0 {
		o.CoolDown = DefaultCoolDown
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Deliverer{client: client, signers: signers, store: st, log: log, opts: o, now: time.Now, hosts: map[string]*hostState{}}
}

// maxHostsRemembered bounds the in-memory host table; past it, hosts with
// nothing in flight and a closed circuit are forgotten.
const maxHostsRemembered = 10_000

// acquire takes a slot for host, or says how long to wait: while its
// circuit is open, or when it has PerHost deliveries in flight.
func (d *Deliverer) acquire(host string) (wait time.Duration, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.hosts[host]
	if h == nil {
		if len(d.hosts) >= maxHostsRemembered {
			for k, v := range d.hosts {
				if v.inFlight == 0 && v.failures == 0 {
					delete(d.hosts, k)
				}
			}
		}
		h = &hostState{}
		d.hosts[host] = h
	}
	now := d.now()
	if now.Before(h.openUntil) {
		return h.openUntil.Sub(now), false
	}
	if h.failures >= d.opts.BreakAfter {
		// The cool-down is over: one delivery tries the host; the others
		// wait for what it finds.
		if h.probing {
			return time.Second, false
		}
		h.probing = true
	}
	if h.inFlight >= d.opts.PerHost {
		return time.Second, false
	}
	h.inFlight++
	return 0, true
}

// release ends a delivery to host: a success closes its circuit, a
// failure counts, and opens it after BreakAfter in a row.
func (d *Deliverer) release(host string, failed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.hosts[host]
	if h == nil {
		return
	}
	h.inFlight--
	h.probing = false
	if !failed {
		h.failures, h.openUntil = 0, time.Time{}
		return
	}
	h.failures++
	if h.failures >= d.opts.BreakAfter {
		h.openUntil = d.now().Add(d.opts.CoolDown)
	}
}

// Job is the job store.KindDeliver.
func (d *Deliverer) Job(ctx context.Context, payload []byte) error {
	var p store.Delivery
	if err := json.Unmarshal(payload, &p); err != nil || p.Inbox == "" || len(p.Activity) == 0 {
		return jobs.Permanent(fmt.Errorf("delivery payload: %v", err))
	}
	inbox, err := url.Parse(p.Inbox)
	if err != nil || inbox.Host == "" {
		return jobs.Permanent(fmt.Errorf("delivery to %q: not a URL", p.Inbox))
	}
	host := store.InboxHost(p.Inbox)
	if blocked, err := d.store.DomainBlocked(ctx, inbox.Hostname()); err != nil {
		return err
	} else if blocked {
		d.log.Info("delivery dropped: the domain is blocked", "inbox", p.Inbox)
		return nil
	}
	if gone, err := d.store.HostUnavailable(ctx, host); err != nil {
		return err
	} else if gone {
		d.log.Info("delivery dropped: the host is unavailable", "inbox", p.Inbox)
		return nil
	}
	wait, ok := d.acquire(host)
	if !ok {
		// Jitter, so that the jobs put off together do not return together.
		wait += time.Duration(rand.Int64N(int64(time.Second)))
		return jobs.Defer(d.now().Add(wait), "host "+host+" is busy or its circuit is open")
	}
	failed := true
	defer func() { d.release(host, failed) }()
	err = d.send(ctx, p, inbox)
	var refused *refusedError
	switch {
	case err == nil:
		failed = false
		return d.store.HostDelivered(context.WithoutCancel(ctx), host, d.now())
	case errors.As(err, &refused):
		// The host answered: it is up, and will not take this one.
		failed = false
		if rerr := d.store.HostDelivered(context.WithoutCancel(ctx), host, d.now()); rerr != nil {
			return rerr
		}
		d.log.Info("delivery refused by the inbox; dropped", "inbox", p.Inbox, "status", refused.status)
		return nil
	}
	if ctx.Err() != nil || jobs.IsPermanent(err) {
		// Shutting down, or our own fault: not the host's.
		failed = false
		return err
	}
	unavailable, herr := d.store.HostFailed(context.WithoutCancel(ctx), host, d.now())
	if herr != nil {
		d.log.Error("recording a failed delivery", "host", host, "err", herr)
	}
	if unavailable {
		d.log.Warn("host unavailable after 7 days of failed deliveries; its deliveries are dropped until it is heard from", "host", host)
		return nil
	}
	return err
}

// refusedError is a 4xx answer (other than 401, 408 and 429): retrying
// will not change it.
type refusedError struct{ status int }

func (e *refusedError) Error() string { return fmt.Sprintf("the inbox answered %d", e.status) }

// send POSTs the activity, signed by its actor.
func (d *Deliverer) send(ctx context.Context, p store.Delivery, inbox *url.URL) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	key, err := d.signers.SigningKey(ctx, p.Signer)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("signer %d: %w", p.Signer, err))
	}
	body := []byte(p.Activity)
	req, err := http.NewRequest(http.MethodPost, inbox.String(), bytes.NewReader(body))
	if err != nil {
		return jobs.Permanent(err)
	}
	req.Header.Set("Content-Type", activitypub.ContentType)
	req.Header.Set("Accept", activitypub.ContentType)
	sign := func(r *http.Request) error { return httpsig.SignCavage(r, body, key, time.Now()) }
	resp, err := d.client.Do(ctx, req, sign)
	if err != nil {
		var refused *outbound.RefusedError
		if errors.As(err, &refused) {
			// The guard will refuse it every time (a private address).
			return jobs.Permanent(err)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusUnauthorized:
		// Busy, or our key not fetched yet (a peer that could not reach
		// us answers 401): worth another try, as Mastodon deems them.
		return fmt.Errorf("the inbox answered %d", resp.StatusCode)
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return &refusedError{status: resp.StatusCode}
	default:
		return fmt.Errorf("the inbox answered %d", resp.StatusCode)
	}
}

// maxSkipped bounds the hosts BusyHosts names (a claim's query carries
// them); past it, the deliveries of the others are put off when claimed.
const maxSkipped = 200

// BusyHosts are the hosts that may not be contacted now: at their bound
// of deliveries in flight, or with their circuit open or being probed.
// The delivery runner leaves their jobs unclaimed (jobs.Options.SkipHosts)
// instead of claiming and putting them off over and over.
func (d *Deliverer) BusyHosts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var out []string
	for host, h := range d.hosts {
		if len(out) == maxSkipped {
			break
		}
		if h.inFlight >= d.opts.PerHost || now.Before(h.openUntil) || h.probing {
			out = append(out, host)
		}
	}
	return out
}

// Breaker is what the deliverer knows of a host's circuit, for the admin.
type Breaker struct {
	Host      string
	Failures  int
	OpenUntil time.Time
}

// OpenCircuits lists the hosts whose circuit is open now.
func (d *Deliverer) OpenCircuits() []Breaker {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var out []Breaker
	for host, h := range d.hosts {
		if now.Before(h.openUntil) {
			out = append(out, Breaker{Host: host, Failures: h.failures, OpenUntil: h.openUntil})
		}
	}
	return out
}
