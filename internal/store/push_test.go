package store

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestPushSubscriptions: one subscription per token (subscribing again
// replaces it), revoking the token ends it, and a notification enqueues
// a push for the subscriptions whose alerts take its type and whose
// policy takes its sender.
func TestPushSubscriptions(t *testing.T) {
	f := newCounterFixture(t, 4)
	ctx := context.Background()
	now := time.Now()
	alice, bob, carol, dave := f.accounts[0], f.accounts[1], f.accounts[2], f.accounts[3]
	if err := f.s.CreateApp(ctx, &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "push",
		ClientID: "c", ClientSecretHash: "s", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	app := f.next.Load()
	tokens := map[string]int64{}
	for _, name := range []string{"all", "followed", "follower", "none"} {
		id := f.id()
		if err := f.s.CreateToken(ctx, &Token{ID: id, TokenHash: "h-" + name, AppID: app, AccountID: alice, Scopes: "push", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		tokens[name] = id
		if err := f.s.PutPushSubscription(ctx, &PushSubscription{ID: f.id(), TokenID: id, AccountID: alice, Endpoint: "https://push.example/" + name,
			P256DH: "k", Auth: "a", Alerts: []string{"mention", "follow"}, Policy: name, SealedToken: "s", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	// Subscribing again replaces the token's subscription.
	again := f.id()
	if err := f.s.PutPushSubscription(ctx, &PushSubscription{ID: again, TokenID: tokens["all"], AccountID: alice, Endpoint: "https://push.example/all",
		P256DH: "k", Auth: "a", Standard: true, Alerts: []string{"mention", "follow"}, Policy: "all", SealedToken: "s", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if p, err := f.s.PushSubscriptionOfToken(ctx, tokens["all"]); err != nil || p == nil || p.ID != again || !p.Standard {
		t.Fatalf("after resubscribing: %+v, %v", p, err)
	}
	// alice follows bob; carol follows alice; dave neither.
	if _, err := f.s.Follow(ctx, f.id(), alice, bob, FollowOptions{}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Follow(ctx, f.id(), carol, alice, FollowOptions{}, now); err != nil {
		t.Fatal(err)
	}
	pushedTo := func(from int64, typ string) []string {
		t.Helper()
		if _, err := f.s.write.ExecContext(ctx, `DELETE FROM jobs`); err != nil {
			t.Fatal(err)
		}
		n, err := f.s.EnqueuePushes(ctx, &Notification{ID: f.id(), AccountID: alice, FromAccountID: from, Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := f.s.ClaimJobs(ctx, time.Now().Add(time.Minute), time.Minute, 100, KindPushDeliver)
		if err != nil || len(jobs) != n {
			t.Fatalf("claimed %d jobs (%v), enqueued %d", len(jobs), err, n)
		}
		var out []string
		for _, j := range jobs {
			var d PushDelivery
			if err := json.Unmarshal(j.Payload, &d); err != nil {
				t.Fatal(err)
			}
			p, err := f.s.PushSubscription(ctx, d.Subscription)
			if err != nil || p == nil {
				t.Fatalf("job for subscription %d: %v", d.Subscription, err)
			}
			if j.Host != "push.example" {
				t.Errorf("job host %q", j.Host)
			}
			out = append(out, p.Policy)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		from int64
		typ  string
		want []string
	}{
		{bob, "mention", []string{"all", "followed"}},
		{carol, "mention", []string{"all", "follower"}},
		{dave, "follow", []string{"all"}},
		{bob, "favourite", nil}, // not among the alerts
	} {
		if got := pushedTo(c.from, c.typ); !slices.Equal(got, c.want) {
			t.Errorf("a %s from %d is pushed to %v, want %v", c.typ, c.from, got, c.want)
		}
	}
	if ok, err := f.s.UpdatePushSubscriptionData(ctx, tokens["none"], []string{"favourite"}, "all"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got := pushedTo(bob, "favourite"); !slices.Equal(got, []string{"all"}) {
		t.Errorf("after the update a favourite is pushed to %v", got)
	}
	// Revoking the token ends its subscription.
	if ok, err := f.s.DeleteToken(ctx, "h-followed", app); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if p, err := f.s.PushSubscriptionOfToken(ctx, tokens["followed"]); err != nil || p != nil {
		t.Errorf("the revoked token's subscription remains: %+v, %v", p, err)
	}
	if err := f.s.DeletePushSubscriptionOfToken(ctx, tokens["follower"]); err != nil {
		t.Fatal(err)
	}
	if got := pushedTo(carol, "mention"); !slices.Equal(got, []string{"all"}) {
		t.Errorf("after unsubscribing, a mention from a follower is pushed to %v", got)
	}
}
