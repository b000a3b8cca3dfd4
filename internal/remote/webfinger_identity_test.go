package remote

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"
)

// An actor looked up by URL whose host's WebFinger names it with another
// domain's acct is not filed under that domain unless that domain's own
// WebFinger names the actor too (found in review: evil.example could file
// its actor as bob@victim.example).
func TestAnActorIsNotFiledUnderAnotherDomainsName(t *testing.T) {
	evil, routes, _ := hostile(t)
	host := strings.TrimPrefix(evil.URL, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	bob := evil.URL + "/users/bob"
	routes["/users/bob"] = serve("application/activity+json", actorJSON(t, bob, bob, &key.PublicKey))
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@victim.example", bob)
	a, st := newTestAccounts(t, host)
	ctx := context.Background()
	accID, _, err := a.ResolveURL(ctx, 1, mustParse(bob))
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	acc, _ := st.AccountByID(ctx, accID)
	if acc.Domain != host {
		t.Errorf("the actor on %s was stored as bob@%s", host, acc.Domain)
	}
	// And a later lookup of bob@victim.example by acct gets evil's actor, from the store.
	got, err := a.Resolve(ctx, 2, Acct{User: "bob", Host: "victim.example"})
	if err == nil {
		t.Errorf("Resolve(bob@victim.example) = %s (uri %s)", got.Username+"@"+got.Domain, got.URI)
	}
}

// The same with a victim that answers: the real bob@victim is found, not
// the impostor, fresh and after a refresh.
func TestAnImpostorCannotTakeARealAcct(t *testing.T) {
	evil, routes, _ := hostile(t)
	victim, vroutes, _ := hostile(t)
	host, vhost := strings.TrimPrefix(evil.URL, "http://"), strings.TrimPrefix(victim.URL, "http://")
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	bob, realBob := evil.URL+"/users/bob", victim.URL+"/users/bob"
	routes["/users/bob"] = serve("application/activity+json", actorJSON(t, bob, bob, &key.PublicKey))
	routes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+vhost, bob)
	vroutes["/users/bob"] = serve("application/activity+json", actorJSON(t, realBob, realBob, &key.PublicKey))
	vroutes["/.well-known/webfinger"] = webfingerFor("acct:bob@"+vhost, realBob)
	a, st := newTestAccounts(t, host, vhost)
	ctx := context.Background()
	if _, _, err := a.ResolveURL(ctx, 1, mustParse(bob)); err != nil {
		t.Fatal(err)
	}
	got, err := a.Resolve(ctx, 2, Acct{User: "bob", Host: vhost})
	if err != nil || got.URI != realBob {
		t.Fatalf("bob@%s: %+v %v; want the real actor", vhost, got, err)
	}
	_ = st.SetRemoteAccountFetchedAt(ctx, got.ID, a.now().Add(-48*time.Hour))
	got, err = a.Resolve(ctx, 2, Acct{User: "bob", Host: vhost})
	if err != nil || got.URI != realBob {
		t.Errorf("bob@%s is still the impostor %s after the real actor was fetched", vhost, bob)
	}
}
