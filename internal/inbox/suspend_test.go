package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// notes is a Remote that knows one actor and counts the Notes delivered.
type notes struct {
	Remote
	st        *store.Store
	delivered int
}

func (n *notes) Actor(ctx context.Context, uri string) (*store.Account, error) {
	return n.st.AccountByURI(ctx, uri)
}

func (n *notes) DeliveredNote(context.Context, []byte, *store.Account, *url.URL) (int64, bool, []int64, error) {
	n.delivered++
	return 0, false, nil, errors.New("not stored in this test")
}

// An activity of a suspended remote account is dropped at the inbox; once
// unsuspended, its activities are processed again.
func TestSuspendedActorsActivitiesAreDropped(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	id, err := st.UpsertRemoteAccount(ctx, &store.RemoteAccount{Account: store.Account{Username: "bob", Domain: "b.example", URI: bob,
		CreatedAt: time.Now()}, InboxURL: bob + "/inbox"}, 4242)
	if err != nil {
		t.Fatal(err)
	}
	rem := &notes{st: st}
	p := New(st, nil, rem, slog.New(slog.DiscardHandler))
	n := 0
	create := func() []byte {
		n++
		note := map[string]any{"id": bob + "/statuses/" + string(rune('0'+n)), "type": "Note", "attributedTo": bob, "content": "hi",
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}}
		act, _ := json.Marshal(map[string]any{"id": bob + "/activities/" + string(rune('0'+n)), "type": "Create", "actor": bob, "object": note,
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}})
		payload, _ := json.Marshal(store.Received{Activity: act, Signer: bob})
		return payload
	}
	if err := st.SetSuspended(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := p.Job(ctx, create()); err != nil || rem.delivered != 0 {
		t.Fatalf("a suspended actor's Create: %v, %d notes delivered", err, rem.delivered)
	}
	if err := st.SetSuspended(ctx, id, time.Time{}); err != nil {
		t.Fatal(err)
	}
	_ = p.Job(ctx, create()) // the fake refuses to store it; only the call counts
	if rem.delivered != 1 {
		t.Fatalf("an unsuspended actor's Create: %d notes delivered, want 1", rem.delivered)
	}
}
