package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Last use is recorded coarsely: two uses within LastUseEvery make one
// write, a use after it moves the time. For tokens and sessions alike.
func TestLastUseIsWrittenAtMostOnceAnHour(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	at := time.UnixMilli(1_700_000_000_000).UTC()
	app := &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read", ClientID: "cid", ClientSecretHash: "h", CreatedAt: at}
	if err := f.s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	tok := &Token{ID: f.id(), TokenHash: "th", AppID: app.ID, AccountID: f.accounts[0], Scopes: "read", CreatedAt: at}
	if err := f.s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CreateSession(ctx, &Session{IDHash: "sh", AccountID: f.accounts[0], CreatedAt: at, ExpiresAt: at.Add(100 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tokenUse := func() time.Time {
		t.Helper()
		got, _, _, err := f.s.UserToken(ctx, "th")
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsedAt
	}
	sessionSeen := func() time.Time {
		t.Helper()
		se, err := f.s.SessionByHash(ctx, "sh", at)
		if err != nil {
			t.Fatal(err)
		}
		return se.LastSeenAt
	}
	if !tokenUse().IsZero() {
		t.Fatalf("a new token's last use is %v; want none", tokenUse())
	}
	if !sessionSeen().Equal(at) {
		t.Fatalf("a new session was last seen %v; want its creation %v", sessionSeen(), at)
	}

	first := at.Add(2 * time.Hour)
	writes := 0
	for _, use := range []time.Time{first, first.Add(time.Minute), first.Add(59 * time.Minute)} {
		wrote, err := f.s.TouchToken(ctx, tok.ID, use)
		if err != nil {
			t.Fatal(err)
		}
		if wrote {
			writes++
		}
	}
	if writes != 1 || !tokenUse().Equal(first) {
		t.Fatalf("three uses within the hour: %d writes, last use %v; want 1 write at %v", writes, tokenUse(), first)
	}
	later := first.Add(time.Hour)
	if wrote, err := f.s.TouchToken(ctx, tok.ID, later); err != nil || !wrote || !tokenUse().Equal(later) {
		t.Fatalf("a use an hour later: wrote %v (%v), last use %v; want it recorded at %v", wrote, err, tokenUse(), later)
	}

	writes = 0
	for _, use := range []time.Time{first, first.Add(30 * time.Minute)} {
		wrote, err := f.s.TouchSession(ctx, "sh", use)
		if err != nil {
			t.Fatal(err)
		}
		if wrote {
			writes++
		}
	}
	if writes != 1 || !sessionSeen().Equal(first) {
		t.Fatalf("two page loads within the hour: %d writes, last seen %v; want 1 write at %v", writes, sessionSeen(), first)
	}
	if wrote, err := f.s.TouchSession(ctx, "sh", later); err != nil || !wrote || !sessionSeen().Equal(later) {
		t.Fatalf("a page load an hour later: wrote %v (%v), last seen %v; want %v", wrote, err, sessionSeen(), later)
	}
}

// An expired token is no longer live for the streams' sweep, and is not
// listed among the account's apps; one without expiry stays.
func TestExpiredTokensAreNotLiveNorListed(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 1)
	at := time.UnixMilli(1_700_000_000_000).UTC()
	app := &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read write", ClientID: "cid", ClientSecretHash: "h", CreatedAt: at}
	other := &App{ID: f.id(), Name: "other", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read", ClientID: "cid2", ClientSecretHash: "h", CreatedAt: at}
	for _, a := range []*App{app, other} {
		if err := f.s.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	expiring := &Token{ID: f.id(), TokenHash: "t1", AppID: app.ID, AccountID: f.accounts[0], Scopes: "read", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	forever := &Token{ID: f.id(), TokenHash: "t2", AppID: other.ID, AccountID: f.accounts[0], Scopes: "read", CreatedAt: at}
	for _, tk := range []*Token{expiring, forever} {
		if err := f.s.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	got, _, _, err := f.s.UserToken(ctx, "t1")
	if err != nil || !got.ExpiresAt.Equal(expiring.ExpiresAt) || got.Expired(at) || !got.Expired(at.Add(time.Hour)) {
		t.Fatalf("the expiring token loads as %+v (%v)", got, err)
	}
	live, err := f.s.LiveTokens(ctx, []int64{expiring.ID, forever.ID}, at.Add(time.Hour))
	if err != nil || live[expiring.ID] || !live[forever.ID] {
		t.Fatalf("live after the hour: %v (%v); want only the token without expiry", live, err)
	}
	live, err = f.s.LiveTokens(ctx, []int64{expiring.ID}, at)
	if err != nil || !live[expiring.ID] {
		t.Fatalf("live before the hour: %v (%v)", live, err)
	}
	apps, err := f.s.AuthorizedApps(ctx, f.accounts[0], at.Add(time.Hour))
	if err != nil || len(apps) != 1 || apps[0].App.ID != other.ID {
		t.Fatalf("apps after the hour: %+v (%v); want only %q", apps, err, other.Name)
	}
}

// Apps are listed one row per client with the union of their tokens'
// scopes; revoking one removes all its tokens of that account and nothing
// of another account's.
func TestAuthorizedAppsAndTheirRevocation(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	at := time.UnixMilli(1_700_000_000_000).UTC()
	app := &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read write", ClientID: "cid", ClientSecretHash: "h", CreatedAt: at}
	if err := f.s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	var mine []int64
	for i, tk := range []*Token{
		{TokenHash: "a1", AccountID: f.accounts[0], Scopes: "read", CreatedAt: at},
		{TokenHash: "a2", AccountID: f.accounts[0], Scopes: "read write", CreatedAt: at.Add(time.Minute)},
		{TokenHash: "b1", AccountID: f.accounts[1], Scopes: "read", CreatedAt: at},
	} {
		tk.ID, tk.AppID = f.id(), app.ID
		if err := f.s.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			mine = append(mine, tk.ID)
		}
	}
	if _, err := f.s.TouchToken(ctx, mine[1], at.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	apps, err := f.s.AuthorizedApps(ctx, f.accounts[0], at)
	if err != nil || len(apps) != 1 {
		t.Fatalf("apps: %+v (%v); want one row", apps, err)
	}
	a := apps[0]
	if a.Tokens != 2 || fmt.Sprint(a.Scopes) != "[read write]" || !a.CreatedAt.Equal(at) || !a.LastUsedAt.Equal(at.Add(3*time.Hour)) {
		t.Fatalf("the app's row: %+v", a)
	}
	// Another account's id for the app revokes nothing of this account's.
	if ids, err := f.s.DeleteAccountAppTokens(ctx, f.accounts[1], app.ID+1); err != nil || len(ids) != 0 {
		t.Fatalf("revoking an app that holds nothing: %v %v", ids, err)
	}
	ids, err := f.s.DeleteAccountAppTokens(ctx, f.accounts[0], app.ID)
	if err != nil || len(ids) != 2 {
		t.Fatalf("revoked %v (%v); want the account's two tokens", ids, err)
	}
	if _, _, _, err := f.s.UserToken(ctx, "b1"); err != nil {
		t.Fatalf("the other account's token of the same app: %v; want it kept", err)
	}
}

// Sessions: listed for their account only; one is deleted only through its
// own account; "every other" keeps the one named.
func TestAccountSessionsAndTheirRevocation(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	at := time.UnixMilli(1_700_000_000_000).UTC()
	for i, h := range []string{"s1", "s2", "s3"} {
		acct := f.accounts[0]
		if i == 2 {
			acct = f.accounts[1]
		}
		if err := f.s.CreateSession(ctx, &Session{IDHash: h, AccountID: acct, CreatedAt: at.Add(time.Duration(i) * time.Minute),
			ExpiresAt: at.Add(time.Hour), UserAgent: "ua", IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := f.s.AccountSessions(ctx, f.accounts[0], at)
	if err != nil || len(list) != 2 || list[0].IDHash != "s2" || list[1].IDHash != "s1" {
		t.Fatalf("sessions: %+v (%v); want s2 then s1", list, err)
	}
	if gone, err := f.s.DeleteAccountSession(ctx, f.accounts[0], "s3"); err != nil || gone {
		t.Fatalf("deleting another account's session: %v %v; want nothing deleted", gone, err)
	}
	if _, err := f.s.SessionByHash(ctx, "s3", at); err != nil {
		t.Fatalf("the other account's session: %v", err)
	}
	if n, err := f.s.DeleteOtherSessions(ctx, f.accounts[0], "s2"); err != nil || n != 1 {
		t.Fatalf("every other session: %d (%v); want 1", n, err)
	}
	if list, _ := f.s.AccountSessions(ctx, f.accounts[0], at); len(list) != 1 || list[0].IDHash != "s2" {
		t.Fatalf("after: %+v", list)
	}
	if list, _ := f.s.AccountSessions(ctx, f.accounts[0], at.Add(time.Hour)); len(list) != 0 {
		t.Fatalf("expired sessions listed: %+v", list)
	}
}

// The event log: the newest first, the account's own only, at most
// SecurityEventsKept per account at any moment, nothing older than the
// pruning bound after a prune.
func TestSecurityEventsAreBoundedPerAccount(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	at := time.UnixMilli(1_700_000_000_000).UTC()
	for i := 0; i < SecurityEventsKept+5; i++ {
		if err := f.s.AddSecurityEvent(ctx, &SecurityEvent{ID: f.id(), AccountID: f.accounts[0], Kind: "k",
			CreatedAt: at.Add(time.Duration(i) * time.Second), Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.AddSecurityEvent(ctx, &SecurityEvent{ID: f.id(), AccountID: f.accounts[1], Kind: "k", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.SecurityEvents(ctx, f.accounts[0], 1000)
	if err != nil || len(got) != SecurityEventsKept {
		t.Fatalf("%d events (%v); want the newest %d", len(got), err, SecurityEventsKept)
	}
	if got[0].Detail != fmt.Sprint(SecurityEventsKept+4) || got[len(got)-1].Detail != "5" {
		t.Fatalf("kept from %q to %q; want the newest first, %d down to 5", got[0].Detail, got[len(got)-1].Detail, SecurityEventsKept+4)
	}
	for _, e := range got {
		if e.AccountID != f.accounts[0] {
			t.Fatalf("another account's event listed: %+v", e)
		}
	}
	if n, err := f.s.PruneSecurityEvents(ctx, at.Add(50*time.Second)); err != nil || n != 45+1 {
		t.Fatalf("pruned %d (%v); want the 45 of the first account and the other's one older than the bound", n, err)
	}
}
