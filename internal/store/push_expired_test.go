package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// A token past its lifetime (security.token_lifetime) grants nothing, so
// the app that held it gets no more of the account's notifications by
// push either: its subscription is passed over, a live token's is not.
func TestNoPushForAnExpiredToken(t *testing.T) {
	f := newCounterFixture(t, 2)
	ctx := context.Background()
	now := time.Now()
	alice, bob := f.accounts[0], f.accounts[1]
	if err := f.s.CreateApp(ctx, &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "push",
		ClientID: "c", ClientSecretHash: "s", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	app := f.next.Load()
	for _, c := range []struct {
		name    string
		expires time.Time
	}{{"expired", now.Add(-time.Minute)}, {"live", now.Add(time.Hour)}, {"forever", time.Time{}}} {
		id := f.id()
		if err := f.s.CreateToken(ctx, &Token{ID: id, TokenHash: "h-" + c.name, AppID: app, AccountID: alice, Scopes: "push",
			CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: c.expires}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.PutPushSubscription(ctx, &PushSubscription{ID: f.id(), TokenID: id, AccountID: alice, Endpoint: "https://push.example/" + c.name,
			P256DH: "k", Auth: "a", Alerts: []string{"mention"}, Policy: "all", SealedToken: "s", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := f.s.EnqueuePushes(ctx, &Notification{ID: f.id(), AccountID: alice, FromAccountID: bob, Type: "mention"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d pushes enqueued; want 2 (the live and the never-expiring tokens', not the expired one's)", n)
	}
	jobs, err := f.s.ClaimJobs(ctx, time.Now().Add(time.Minute), time.Minute, 100, KindPushDeliver)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		var d PushDelivery
		if err := json.Unmarshal(j.Payload, &d); err != nil {
			t.Fatal(err)
		}
		if p, err := f.s.PushSubscription(ctx, d.Subscription); err != nil || p == nil || p.Endpoint == "https://push.example/expired" {
			t.Errorf("a push to %+v (%v)", p, err)
		}
	}
}
