package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store/storetest"

	"github.com/rampart-social/rampart/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "db.sqlite"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func like(actor string, n int) []byte {
	return fmt.Appendf(nil, `{"id":"%s#likes/%d","type":"Like","actor":"%s","object":"https://a.example/n/1"}`, actor, n, actor)
}

// One activity id is queued once; a type not processed and an activity
// breaking the rules are not queued at all; a server with
// MaxWaitingPerHost activities waiting is refused until they are done,
// while others are not; a delivery clears its host's unavailable mark.
func TestTheQueueTakesEachActivityOnceAndBoundsEachHost(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	woken := 0
	q := NewQueue(st, func() { woken++ })
	pending := func() int64 { s, _ := st.JobStats(ctx); return s.Pending }
	for range 2 {
		if err := q.Receive(ctx, like(bob, 0), bob, 0); err != nil {
			t.Fatal(err)
		}
	}
	if pending() != 1 || woken != 1 {
		t.Fatalf("the same activity twice: %d jobs, woken %d; want one", pending(), woken)
	}
	if err := q.Receive(ctx, []byte(`{"type":"EmojiReact","actor":"`+bob+`"}`), bob, 0); err != nil || pending() != 1 {
		t.Errorf("a type not processed: %v, %d jobs", err, pending())
	}
	var rule *RuleError
	if err := q.Receive(ctx, []byte(`{"id":"https://c.example/1","type":"Like","actor":"`+bob+`","object":"x"}`), bob, 0); !errors.As(err, &rule) || pending() != 1 {
		t.Errorf("an id off the actor's origin: %v, %d jobs", err, pending())
	}

	for i := 1; i < MaxWaitingPerHost; i++ {
		if err := q.Receive(ctx, like(bob, i), bob, 0); err != nil {
			t.Fatalf("activity %d: %v", i, err)
		}
	}
	if err := q.Receive(ctx, like(bob, MaxWaitingPerHost), bob, 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("activity %d of one host: %v; want ErrBusy", MaxWaitingPerHost+1, err)
	}
	other := "https://c.example/users/cy"
	if err := q.Receive(ctx, like(other, 1), other, 0); err != nil {
		t.Errorf("another host meanwhile: %v", err)
	}
	// Once one is processed, the host is taken again.
	claimed, err := st.ClaimJobs(ctx, time.Now().Add(time.Second), time.Minute, 1, store.KindInbox)
	if err != nil || len(claimed) != 1 {
		t.Fatal(claimed, err)
	}
	if err := st.CompleteJob(ctx, claimed[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := q.Receive(ctx, like(bob, MaxWaitingPerHost+1), bob, 0); err != nil {
		t.Errorf("after one was processed: %v", err)
	}

	// Heard from, an unavailable host is available again.
	if _, err := st.HostFailed(ctx, "c.example", time.Now().Add(-8*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if gone, _ := st.HostFailed(ctx, "c.example", time.Now()); !gone {
		t.Fatal("c.example is not unavailable after a week of failures")
	}
	if err := q.Receive(ctx, like(other, 2), other, 0); err != nil {
		t.Fatal(err)
	}
	if gone, _ := st.HostUnavailable(ctx, "c.example"); gone {
		t.Error("a delivery from an unavailable host did not clear the mark")
	}
}
