package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testutil"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testdb"
)

// The relay's tests run two stores on one PostgreSQL database, each with
// its relay, bus and subscriber: two processes of one instance.

func postgresOnly(t *testing.T) {
	t.Helper()
	if !testdb.Postgres() {
		t.Skip("PostgreSQL only (the relay is LISTEN/NOTIFY): scripts/test's PostgreSQL pass runs it, with " + testdb.EnvPostgres + " set")
	}
}

// process is one process's store, relay and stream subscriber.
type process struct {
	store *store.Store
	relay *events.Relay
	sub   <-chan events.Event
	log   *testutil.SyncBuffer
}

func startProcess(t *testing.T, path string) *process {
	t.Helper()
	p := &process{log: &testutil.SyncBuffer{}}
	log := slog.New(slog.NewTextHandler(p.log, nil))
	p.store = storetest.Open(t, path, log)
	bus := events.NewBus(log)
	var unsubscribe func()
	p.sub, unsubscribe = bus.Subscribe(4096)
	p.relay = events.NewRelay(p.store, bus, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- p.relay.Send(ctx) }()
	go func() { done <- p.relay.Receive(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("relay: %v", err)
			}
		}
		unsubscribe()
		p.store.Close()
	})
	select {
	case <-p.relay.Listening():
	case <-time.After(20 * time.Second):
		t.Fatal("the relay is not listening after 20 s")
	}
	return p
}

// expect reads exactly want from p's subscriber, in order.
func (p *process) expect(t *testing.T, name string, want []events.Event) {
	t.Helper()
	for i, w := range want {
		select {
		case got := <-p.sub:
			if !same(got, w) {
				t.Fatalf("%s: event %d is %s, want %s", name, i, show(got), show(w))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: event %d (%s) not delivered within 10 s", name, i, show(w))
		}
	}
	select {
	case got := <-p.sub:
		t.Fatalf("%s: an event more than was published: %s", name, show(got))
	case <-time.After(200 * time.Millisecond):
	}
}

func show(e events.Event) string {
	b, _ := json.Marshal(e)
	if len(b) > 120 {
		return fmt.Sprintf("%s… (%d bytes)", b[:120], len(b))
	}
	return string(b)
}

func same(a, b events.Event) bool { return show(a) == show(b) }

func created(account, status int64) events.Event {
	return events.Event{Kind: events.StatusCreated, Status: status, Account: account, Reach: events.ReachAll}
}

// deletion is a deleted direct status that mentioned n accounts: its JSON
// is far past a notification's 8000 bytes when n is large.
func deletion(account, status int64, n int) events.Event {
	g := &events.Gone{Visibility: 3}
	for i := range n {
		g.Mentioned = append(g.Mentioned, 1_000_000_000_000_000_000+int64(i))
	}
	return events.Event{Kind: events.StatusDeleted, Status: status, Account: account, Gone: g}
}

// Events published on either process reach the subscribers of both, each
// once; each publisher's in the order it published them, and both
// processes in the same order, a large event among them.
func TestRelayDeliversEveryEventToEveryProcessOnce(t *testing.T) {
	postgresOnly(t)
	path := filepath.Join(t.TempDir(), "rampart.db")
	a, b := startProcess(t, path), startProcess(t, path)

	var fromA, fromB []events.Event
	for i := range int64(60) {
		fromA = append(fromA, created(1, 1000+i))
		fromB = append(fromB, created(2, 2000+i))
		if i == 30 {
			fromA = append(fromA, deletion(1, 1999, 3000)) // about 60 KB: 8 parts
			fromB = append(fromB, events.Event{Kind: events.NotificationCreated, Account: 2, Notification: 77})
		}
	}
	var wg sync.WaitGroup
	for _, pub := range []struct {
		p  *process
		es []events.Event
	}{{a, fromA}, {b, fromB}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, e := range pub.es {
				pub.p.relay.Publish(e)
			}
		}()
	}
	wg.Wait()

	total := len(fromA) + len(fromB)
	seen := map[string][]events.Event{}
	for _, p := range []struct {
		name string
		p    *process
	}{{"a", a}, {"b", b}} {
		for range total {
			select {
			case e := <-p.p.sub:
				seen[p.name] = append(seen[p.name], e)
			case <-time.After(10 * time.Second):
				t.Fatalf("process %s: %d of %d events after 10 s", p.name, len(seen[p.name]), total)
			}
		}
		select {
		case e := <-p.p.sub:
			t.Fatalf("process %s: an event more than was published: %s", p.name, show(e))
		case <-time.After(200 * time.Millisecond):
		}
		// Each publisher's events, in its order, exactly once.
		var gotA, gotB []events.Event
		for _, e := range seen[p.name] {
			if e.Account == 1 {
				gotA = append(gotA, e)
			} else {
				gotB = append(gotB, e)
			}
		}
		for _, c := range []struct {
			got, want []events.Event
		}{{gotA, fromA}, {gotB, fromB}} {
			if len(c.got) != len(c.want) {
				t.Fatalf("process %s: %d events of a publisher, want %d", p.name, len(c.got), len(c.want))
			}
			for i := range c.got {
				if !same(c.got[i], c.want[i]) {
					t.Fatalf("process %s: event %d is %s, want %s", p.name, i, show(c.got[i]), show(c.want[i]))
				}
			}
		}
	}
	for i := range seen["a"] {
		if !same(seen["a"][i], seen["b"][i]) {
			t.Fatalf("event %d: process a got %s, b %s: the processes' orders differ", i, show(seen["a"][i]), show(seen["b"][i]))
		}
	}
	for _, p := range []*process{a, b} {
		if s := p.log.String(); strings.Contains(s, "level=WARN") || strings.Contains(s, "level=ERROR") {
			t.Errorf("warnings logged:\n%s", s)
		}
	}
}

// Anyone who may connect to the database may notify on the channel: what is
// not an event is logged and dropped, and events still arrive.
func TestRelayDropsMalformedNotifications(t *testing.T) {
	postgresOnly(t)
	path := filepath.Join(t.TempDir(), "rampart.db")
	a, b := startProcess(t, path), startProcess(t, path)
	ctx := context.Background()
	for _, junk := range [][]string{
		{"hello"}, {"{"}, {"{}"}, {`{"k":"status.created"}`}, {`{"k":"nope","s":1,"a":1}`},
		{`{"k":"status.deleted","s":1,"a":1}`}, {"#x 1 2/2 tail"}, {"#x 1 1/3 {", "#x 1 3/3 }"},
		{"#y 1 1/2 {\"k\":", "#y 1 2/2 \"bad\"}"}, {"#z 1 1/200 x"},
	} {
		if err := a.store.Notify(ctx, events.Channel, junk...); err != nil {
			t.Fatal(err)
		}
	}
	good := []events.Event{created(1, 5), deletion(1, 6, 2000)}
	for _, e := range good {
		a.relay.Publish(e)
	}
	a.expect(t, "a", good)
	b.expect(t, "b", good)
	if !strings.Contains(b.log.String(), "streaming notification dropped") {
		t.Errorf("no malformed notification was logged:\n%s", b.log.String())
	}
}

// A listening connection that the server ends is replaced: events published
// afterwards reach both processes once, and the gap is logged.
func TestRelayListensAgainAfterItsBackendIsTerminated(t *testing.T) {
	postgresOnly(t)
	path := filepath.Join(t.TempDir(), "rampart.db")
	a, b := startProcess(t, path), startProcess(t, path)
	// One publisher at a time: two publishing at once may commit in
	// either order.
	publish := func(from *process, es ...events.Event) {
		t.Helper()
		for _, e := range es {
			from.relay.Publish(e)
		}
		a.expect(t, "a", es)
		b.expect(t, "b", es)
	}
	publish(a, created(1, 1))
	publish(b, created(2, 2))

	db := testdb.Open(t, path)
	var pids []int64
	rows, err := db.Query(`SELECT pg_terminate_backend(pid), pid FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ok bool
		var pid int64
		if err := rows.Scan(&ok, &pid); err != nil || !ok {
			t.Fatalf("terminate: %v %v", ok, err)
		}
		pids = append(pids, pid)
	}
	rows.Close()
	if len(pids) != 2 {
		t.Fatalf("terminated %d listening backends, want 2", len(pids))
	}
	// Listening again: two other backends have run their LISTEN.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND query LIKE 'LISTEN%' AND state = 'idle' AND application_name = ? AND pid NOT IN (?, ?)`,
			store.ListenerName, pids[0], pids[1]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 relays listening again after 20 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	publish(a, created(1, 3))
	publish(b, deletion(2, 4, 1000), created(2, 5))
	for name, p := range map[string]*process{"a": a, "b": b} {
		if !strings.Contains(p.log.String(), "were missed") {
			t.Errorf("process %s did not log the gap:\n%s", name, p.log.String())
		}
	}
}
