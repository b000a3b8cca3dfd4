package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// ChangePassword replaces the hash and ends, together, the account's other
// sessions, its tokens up to the given time, its unexchanged codes and its
// sign-ins waiting for a second factor;
// the kept session, a later token and another account's rows stay.
func TestChangePasswordEndsWhatTheOldPasswordStarted(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	me, other := f.accounts[0], f.accounts[1]
	now := time.Now().UTC()
	app := &App{ID: f.id(), Name: "app", RedirectURIs: []string{"urn:ietf:wg:oauth:2.0:oob"}, Scopes: "read", ClientID: "cid", ClientSecretHash: "h", CreatedAt: now}
	if err := f.s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	for _, se := range []*Session{{IDHash: "keep", AccountID: me}, {IDHash: "mine", AccountID: me}, {IDHash: "theirs", AccountID: other}} {
		se.CreatedAt, se.ExpiresAt = now, now.Add(time.Hour)
		if err := f.s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	for _, tok := range []*Token{
		{TokenHash: "old", AccountID: me, CreatedAt: now.Add(-time.Minute)},
		{TokenHash: "later", AccountID: me, CreatedAt: now.Add(time.Minute)},
		{TokenHash: "theirs", AccountID: other, CreatedAt: now.Add(-time.Minute)},
	} {
		tok.ID, tok.AppID, tok.Scopes = f.id(), app.ID, "read"
		if err := f.s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*Code{{CodeHash: "mine", AccountID: me}, {CodeHash: "theirs", AccountID: other}} {
		c.AppID, c.RedirectURI, c.Scopes, c.ExpiresAt = app.ID, "urn:ietf:wg:oauth:2.0:oob", "read", now.Add(time.Minute)
		if err := f.s.CreateCode(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*PendingSignIn{{VisitorHash: "mine", AccountID: me}, {VisitorHash: "theirs", AccountID: other}} {
		p.ReturnTo, p.ExpiresAt = "/", now.Add(time.Minute)
		if err := f.s.PutPendingSignIn(ctx, p, now); err != nil {
			t.Fatal(err)
		}
	}

	if err := f.s.ChangePassword(ctx, me, "new hash", "keep", now); err != nil {
		t.Fatal(err)
	}
	if u, err := f.s.UserByAccountID(ctx, me); err != nil || u.PasswordHash != "new hash" {
		t.Errorf("hash after the change: %v", err)
	}
	for hash, want := range map[string]bool{"keep": true, "mine": false, "theirs": true} {
		_, err := f.s.SessionByHash(ctx, hash, now)
		if got := err == nil; got != want || (err != nil && !errors.Is(err, ErrNotFound)) {
			t.Errorf("session %s: live %v (%v), want %v", hash, got, err, want)
		}
	}
	for hash, want := range map[string]bool{"old": false, "later": true, "theirs": true} {
		_, _, err := f.s.TokenWithApp(ctx, hash)
		if got := err == nil; got != want {
			t.Errorf("token %s: live %v (%v), want %v", hash, got, err, want)
		}
	}
	for hash, want := range map[string]bool{"mine": false, "theirs": true} {
		_, err := f.s.TakeCode(ctx, hash)
		if got := err == nil; got != want {
			t.Errorf("code %s: there %v (%v), want %v", hash, got, err, want)
		}
	}
	for hash, want := range map[string]bool{"mine": false, "theirs": true} {
		_, err := f.s.PendingSignInByHash(ctx, hash, now)
		if got := err == nil; got != want {
			t.Errorf("pending sign-in %s: there %v (%v), want %v", hash, got, err, want)
		}
	}
	// No session kept: this one ends too.
	if err := f.s.ChangePassword(ctx, me, "newer hash", "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SessionByHash(ctx, "keep", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("the kept session after a change that keeps none: %v", err)
	}
}
