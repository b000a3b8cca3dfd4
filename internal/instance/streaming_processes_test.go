package instance

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testdb"
	"github.com/rampart-social/rampart/internal/testutil"
)

// drain reads k's events until none comes for 300 ms.
func (k *socket) drain() {
	for {
		select {
		case <-k.events:
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

// quiet collects what k receives within d.
func (k *socket) quiet(d time.Duration) []streamEvent {
	var got []streamEvent
	deadline := time.After(d)
	for {
		select {
		case e := <-k.events:
			got = append(got, e)
		case <-deadline:
			return got
		}
	}
}

// notificationOf is the status id and type of a notification event.
func (e streamEvent) notificationOf(t *testing.T) (typ, status string) {
	t.Helper()
	var n struct {
		Type   string `json:"type"`
		Status struct {
			ID string `json:"id"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(e.Payload), &n); err != nil {
		t.Fatalf("notification payload: %v: %q", err, e.Payload)
	}
	return n.Type, n.Status.ID
}

// Two processes of one instance on one PostgreSQL database (two instances
// opened on the same config, serving on two listeners): a post made through
// either reaches the streams of both, each event once, its notification
// included.
func TestStreamingReachesEveryProcess(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("PostgreSQL only (several processes share a database only there): scripts/test's PostgreSQL pass runs it, with " + testdb.EnvPostgres + " set")
	}
	cfg := testutil.ProdConfig(t, t.TempDir())
	a := &socialT{t: t, ti: startTLSWith(t, cfg)}
	b := &socialT{t: t, ti: startTLSWith(t, cfg)}
	alice, bob := a.user("alice"), a.user("bob") // in the database both serve
	b.follow(bob, alice)

	onB := b.openStream(bob, "user", "public")
	onB.settle(func() string { return a.post(alice, "settling") }) // through A, heard on B
	onA := a.openStream(alice, "public")
	onA.settle(func() string { return b.post(bob, "settling") }) // through B, heard on A
	onB.drain()

	// Through A: bob's home and public streams on B, and his notification
	// of the mention; alice's own public stream on A.
	id := a.post(alice, "hello from A, @bob")
	onB.expectOnce(t, "B", map[string]func(streamEvent) bool{
		"update on user":       func(e streamEvent) bool { return e.streamName() == "user" && isUpdateOf(id)(e) },
		"update on public":     func(e streamEvent) bool { return e.streamName() == "public" && isUpdateOf(id)(e) },
		"mention notification": func(e streamEvent) bool { return e.Event == "notification" && isMentionOf(t, e, id) },
	})
	onA.expectOnce(t, "A", map[string]func(streamEvent) bool{
		"update on public": func(e streamEvent) bool { return e.streamName() == "public" && isUpdateOf(id)(e) },
	})

	// Through B: alice's public stream on A; bob's own on B.
	id = b.post(bob, "hello from B")
	onA.expectOnce(t, "A", map[string]func(streamEvent) bool{
		"update on public": func(e streamEvent) bool { return e.streamName() == "public" && isUpdateOf(id)(e) },
	})
	onB.expectOnce(t, "B", map[string]func(streamEvent) bool{
		"update on user":   func(e streamEvent) bool { return e.streamName() == "user" && isUpdateOf(id)(e) },
		"update on public": func(e streamEvent) bool { return e.streamName() == "public" && isUpdateOf(id)(e) },
	})
}

func isMentionOf(t *testing.T, e streamEvent, id string) bool {
	typ, status := e.notificationOf(t)
	return typ == "mention" && status == id
}

// expectOnce reads k's events until each of want has matched one, then
// for half a second more: each must match exactly one event, and no other
// event may come.
func (k *socket) expectOnce(t *testing.T, where string, want map[string]func(streamEvent) bool) {
	t.Helper()
	seen := map[string]int{}
	match := func(e streamEvent) {
		t.Helper()
		for name, ok := range want {
			if ok(e) {
				seen[name]++
				return
			}
		}
		t.Errorf("%s: an event not expected: %s on %v", where, e.Event, e.Stream)
	}
	k.until(func(e streamEvent) bool {
		match(e)
		return len(seen) == len(want)
	})
	for _, e := range k.quiet(500 * time.Millisecond) {
		match(e)
	}
	for name := range want {
		if seen[name] != 1 {
			t.Errorf("%s: %s came %d times, want once", where, name, seen[name])
		}
	}
}

// The relay's goroutines end with Serve, and its listening connection is
// gone once they have: nothing of it outlives the instance.
func TestServeStopsTheRelay(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("PostgreSQL only (the relay runs only there): scripts/test's PostgreSQL pass runs it, with " + testdb.EnvPostgres + " set")
	}
	cfg := testutil.ProdConfig(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inst, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	if inst.relay == nil {
		t.Fatal("no relay on PostgreSQL")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- inst.Serve(ctx, ln) }()
	select {
	case <-inst.relay.Listening():
	case <-time.After(20 * time.Second):
		t.Fatal("the relay never listened")
	}
	db := testdb.Open(t, cfg.DatabasePath())
	listeners := func() int {
		t.Helper()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?`,
			store.ListenerName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := listeners(); n != 1 {
		t.Fatalf("%d listening connections while serving, want 1", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	if s := stacks(); strings.Contains(s, "events.(*Relay)") || strings.Contains(s, "store.(*Store).Listen") {
		t.Fatalf("the relay still runs after Serve returned:\n%s", s)
	}
	// The server sees the connection go a moment after it is closed.
	deadline := time.Now().Add(10 * time.Second)
	for listeners() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a listening connection is left after Serve returned")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
