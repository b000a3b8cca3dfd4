package delivery

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/httpsig"
	"github.com/rampart-social/rampart/internal/jobs"
	"github.com/rampart-social/rampart/internal/outbound"
	"github.com/rampart-social/rampart/internal/store"
)

// testKey is the signer's key: a real RSA key, generated once.
var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

type keyOf struct{}

func (keyOf) SigningKey(context.Context, int64) (httpsig.Key, error) {
	return httpsig.Key{ID: "https://a.example/users/alice#main-key", Private: testKey}, nil
}

// fixture is a deliverer over a real store, sending through the guarded
// client to inboxes on loopback (the test hosts).
type fixture struct {
	d     *Deliverer
	st    *store.Store
	clock time.Time
}

func newFixture(t *testing.T, o Options, hosts ...string) *fixture {
	t.Helper()
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "db.sqlite"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	client := outbound.New(outbound.Config{UserAgent: "test", TestHosts: hosts})
	f := &fixture{st: st, clock: time.Now()}
	f.d = New(client, keyOf{}, st, slog.New(slog.DiscardHandler), o)
	f.d.now = func() time.Time { return f.clock }
	return f
}

func payload(inbox string) []byte {
	b, _ := json.Marshal(store.Delivery{Inbox: inbox, Signer: 1, Activity: json.RawMessage(`{"id":"https://a.example/x","type":"Like"}`)})
	return b
}

func isDeferred(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "deferred:") }

// A delivery is a POST of the activity, signed by its actor's key with the
// body's digest covered, which the inbox can verify.
func TestADeliveryIsSignedByItsActor(t *testing.T) {
	var verified atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig, err := httpsig.Parse(r, "http")
		if err == nil {
			err = errors.Join(sig.Check(time.Now()), sig.VerifyBody(body), sig.Verify(&testKey.PublicKey))
		}
		if err == nil && r.Header.Get("Content-Type") == "application/activity+json" && strings.Contains(string(body), `"Like"`) {
			verified.Store(true)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	f := newFixture(t, Options{}, strings.TrimPrefix(srv.URL, "http://"))
	if err := f.d.Job(t.Context(), payload(srv.URL+"/inbox")); err != nil {
		t.Fatal(err)
	}
	if !verified.Load() {
		t.Error("the inbox could not verify the delivery")
	}
}

// A host that answers 500 is retried on the queue's schedule: the job
// fails (not buried), the host's run of failures is recorded, and the
// runner puts the job back by Backoff.
func TestA500IsRetriedOnTheSchedule(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	f := newFixture(t, Options{}, host)
	ctx := t.Context()
	if err := f.st.Enqueue(ctx, store.NewJob{Kind: store.KindDeliver, Payload: payload(srv.URL + "/inbox"), Host: host}); err != nil {
		t.Fatal(err)
	}
	r := jobs.New(f.st, slog.New(slog.DiscardHandler), jobs.Options{Poll: 10 * time.Millisecond})
	r.Handle(store.KindDeliver, f.d.Job)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(rctx); close(done) }()
	// Stop the runner once the job is back in the queue, not at the hit:
	// stopping it mid-job would end the handler's recording of the failure.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := f.st.JobStats(ctx); err == nil && hits.Load() > 0 && st.Running == 0 && st.Retrying == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if hits.Load() != 1 {
		t.Fatalf("the inbox was hit %d times; want once before the first backoff", hits.Load())
	}
	claimed, err := f.st.ClaimJobs(ctx, time.Now().Add(time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("the job after a 500: %v %v; want it pending", claimed, err)
	}
	wait := time.Until(claimed[0].RunAt)
	if lo, hi := 11*time.Second, 19*time.Second; wait < lo || wait > hi {
		t.Errorf("retried in %v; want Backoff(1), 15 s ± 25%%", wait)
	}
	failing, _ := f.st.FailingHosts(ctx, 10)
	if len(failing) != 1 || failing[0].Host != host || failing[0].Failures != 1 || failing[0].Unavailable {
		t.Errorf("failing hosts: %+v", failing)
	}
}

// A host that is down trips its breaker after BreakAfter failures in a
// row: it is not contacted again until the cool-down ends (its deliveries
// are put off without counting an attempt), then one delivery probes it.
func TestADownHostTripsTheBreaker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var contacts atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			contacts.Add(1)
			c.Close() // down: the connection ends without an answer
		}
	}()
	defer ln.Close()
	host := ln.Addr().String()
	f := newFixture(t, Options{BreakAfter: 3, CoolDown: time.Hour}, host)
	ctx := t.Context()
	p := payload("http://" + host + "/inbox")
	for i := range 3 {
		if err := f.d.Job(ctx, p); err == nil || isDeferred(err) {
			t.Fatalf("attempt %d: %v; want a failure", i+1, err)
		}
	}
	before := contacts.Load()
	for range 5 {
		if err := f.d.Job(ctx, p); !isDeferred(err) {
			t.Fatalf("with the circuit open: %v; want the delivery put off", err)
		}
	}
	if contacts.Load() != before {
		t.Errorf("the host was contacted %d times while its circuit was open", contacts.Load()-before)
	}
	if open := f.d.OpenCircuits(); len(open) != 1 || open[0].Host != host {
		t.Errorf("open circuits: %+v", open)
	}
	f.clock = f.clock.Add(time.Hour + time.Second)
	if err := f.d.Job(ctx, p); err == nil || isDeferred(err) {
		t.Fatalf("after the cool-down: %v; want the probe to reach the host and fail", err)
	}
	if contacts.Load() == before {
		t.Error("after the cool-down the host was not contacted")
	}
}

// A host failing for 7 days is unavailable: its deliveries are dropped
// without contact and no new ones are enqueued, until it is heard from.
func TestAHostFailingForAWeekIsUnavailable(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	f := newFixture(t, Options{BreakAfter: 1000}, host)
	ctx := t.Context()
	p := payload(srv.URL + "/inbox")
	if err := f.d.Job(ctx, p); err == nil {
		t.Fatal("a 502 succeeded")
	}
	f.clock = f.clock.Add(7*24*time.Hour + time.Minute)
	if err := f.d.Job(ctx, p); err != nil {
		t.Fatalf("the failure that makes it unavailable: %v; want the delivery dropped", err)
	}
	n := hits.Load()
	if err := f.d.Job(ctx, p); err != nil || hits.Load() != n {
		t.Errorf("a delivery to an unavailable host: %v, contacted %v", err, hits.Load() != n)
	}
	if queued, err := f.st.EnqueueDeliveries(ctx, 1, []byte(`{}`), []string{srv.URL + "/inbox", "https://other.example/inbox"}); err != nil || queued != 1 {
		t.Errorf("enqueued %d (%v); want only the available host's", queued, err)
	}
	if err := f.st.HostHeardFrom(ctx, host); err != nil {
		t.Fatal(err)
	}
	if gone, _ := f.st.HostUnavailable(ctx, host); gone {
		t.Error("still unavailable after it was heard from")
	}
}

// At most PerHost deliveries to one host are in flight; more are put off.
func TestDeliveriesPerHostAreBounded(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	f := newFixture(t, Options{PerHost: 2}, strings.TrimPrefix(srv.URL, "http://"))
	ctx := t.Context()
	p := payload(srv.URL + "/inbox")
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- f.d.Job(ctx, p) }()
	}
	<-arrived
	<-arrived
	if err := f.d.Job(ctx, p); !isDeferred(err) {
		t.Errorf("a third delivery while two are in flight: %v; want it put off", err)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := f.d.Job(ctx, p); err != nil {
		t.Errorf("once they are done: %v", err)
	}
}

// Nothing is sent to a blocked domain, and a 4xx is not retried.
func TestBlockedDomainsAndRefusalsAreNotRetried(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	f := newFixture(t, Options{}, "localhost:"+port)
	ctx := t.Context()
	p := payload("http://localhost:" + port + "/inbox")
	if err := f.d.Job(ctx, p); err != nil || hits.Load() != 1 {
		t.Fatalf("a 403: %v after %d hits; want it dropped after one", err, hits.Load())
	}
	if _, err := f.st.BlockDomain(ctx, "localhost", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.d.Job(ctx, p); err != nil || hits.Load() != 1 {
		t.Errorf("a delivery to a blocked domain: %v, %d hits; want it dropped unsent", err, hits.Load())
	}
}

// A host at its bound of deliveries in flight is busy: the runner leaves
// its other deliveries unclaimed (due, never tried) while claiming other
// hosts', instead of claiming and putting them off again and again.
func TestABusyHostsDeliveriesWaitUnclaimed(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	f := newFixture(t, Options{PerHost: 1}, host)
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- f.d.Job(ctx, payload(srv.URL+"/inbox")) }()
	<-arrived
	if busy := f.d.BusyHosts(); len(busy) != 1 || busy[0] != host {
		t.Fatalf("busy hosts with one delivery in flight: %v", busy)
	}
	if _, err := f.st.EnqueueDeliveries(ctx, 1, []byte(`{"type":"Create"}`), []string{srv.URL + "/a/inbox", "https://other.example/inbox"}); err != nil {
		t.Fatal(err)
	}
	claimed, err := f.st.ClaimJobsExcept(ctx, time.Now().Add(time.Second), time.Minute, 10, []string{store.KindDeliver}, f.d.BusyHosts())
	if err != nil || len(claimed) != 1 || claimed[0].Host != "other.example" {
		t.Fatalf("claimed %+v (%v); want only the other host's delivery", claimed, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if busy := f.d.BusyHosts(); len(busy) != 0 {
		t.Errorf("busy hosts once it is done: %v", busy)
	}
}
