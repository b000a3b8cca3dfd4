package oauth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// With a lifetime, a token is accepted until it ends and refused from then
// on, user's and app's tokens alike; without one, it never ends.
func TestTokenLifetime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := time.Now()
	f.s.now = func() time.Time { return start }
	forever, err := f.exchange(f.code(t))
	if err != nil {
		t.Fatal(err)
	}
	f.s.WithTokenLifetime(time.Hour)
	user, err := f.exchange(f.code(t))
	if err != nil {
		t.Fatal(err)
	}
	app, err := f.s.Exchange(ctx, TokenParams{GrantType: "client_credentials", ClientID: f.app.ClientID, ClientSecret: f.secret})
	if err != nil {
		t.Fatal(err)
	}
	f.s.now = func() time.Time { return start.Add(time.Hour - time.Second) }
	for _, tok := range []string{user.Token, app.Token} {
		if _, _, _, err := f.s.Bearer(ctx, tok); err != nil {
			t.Fatalf("a token within its lifetime: %v", err)
		}
	}
	f.s.now = func() time.Time { return start.Add(time.Hour) }
	for name, tok := range map[string]string{"user's": user.Token, "app's": app.Token} {
		if _, _, _, err := f.s.Bearer(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("the %s token at the end of its lifetime: %v; want ErrInvalidToken", name, err)
		}
	}
	f.s.now = func() time.Time { return start.Add(1000 * 24 * time.Hour) }
	if _, _, _, err := f.s.Bearer(ctx, forever.Token); err != nil {
		t.Errorf("a token issued without a lifetime, much later: %v", err)
	}
}

// Bearer records a token's use at most once per store.LastUseEvery.
func TestBearerRecordsLastUseCoarsely(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	issued, err := f.exchange(f.code(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Millisecond)
	use := func(at time.Time) time.Time {
		t.Helper()
		f.s.now = func() time.Time { return at }
		if _, _, _, err := f.s.Bearer(ctx, issued.Token); err != nil {
			t.Fatal(err)
		}
		tok, _, _, err := f.st.UserToken(ctx, Hash(issued.Token))
		if err != nil {
			t.Fatal(err)
		}
		return tok.LastUsedAt
	}
	if got := use(start); !got.Equal(start) {
		t.Fatalf("first use: last used %v, want %v", got, start)
	}
	if got := use(start.Add(30 * time.Minute)); !got.Equal(start) {
		t.Fatalf("a use half an hour later moved the last use to %v", got)
	}
	if got := use(start.Add(61 * time.Minute)); !got.Equal(start.Add(61 * time.Minute)) {
		t.Fatalf("a use over an hour later: last used %v", got)
	}
}
