package social

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// The rules below the API of notes, conversation mutes, several accounts
// and the public domain blocks.
func TestExtrasRules(t *testing.T) {
	ctx := context.Background()
	cfg := testutil.ProdConfig(t, t.TempDir())
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := id.NewGenerator()
	now := time.Now()
	local := func(name string) *store.Account {
		a := &store.Account{ID: ids.Next(), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateLocalAccount(ctx, a, &store.User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true,
			Locale: "en", DefaultPrivacy: "public", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		return a
	}
	alice, bob := local("alice"), local("bob")
	s := New(cfg, st, ids, nil)

	// Notes: at most 2000 characters, on an account that exists (oneself too).
	var ve *ValidationError
	if err := s.SetAccountNote(ctx, alice, bob.ID, strings.Repeat("x", MaxAccountNote+1)); !errors.As(err, &ve) || ve.Field != "comment" {
		t.Errorf("a note too long: %v", err)
	}
	if err := s.SetAccountNote(ctx, alice, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a note on nobody: %v", err)
	}
	if err := s.SetAccountNote(ctx, alice, alice.ID, "me"); err != nil {
		t.Errorf("a note on oneself: %v", err)
	}

	// A reblog mutes the thread of what it reblogs.
	post := func(author *store.Account, n store.Status) *store.Status {
		n.ID, n.AccountID, n.Local, n.Visibility, n.CreatedAt = ids.Next(), author.ID, true, store.Public, now
		n.URI = "https://example.test/statuses/" + author.Username + time.Now().String()
		if err := st.CreateStatus(ctx, store.NewStatus{Status: &n}); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	root := post(bob, store.Status{Text: "root"})
	reply := post(alice, store.Status{Text: "reply", InReplyToID: root.ID, InReplyToAccountID: bob.ID})
	reblog := post(bob, store.Status{ReblogOfID: reply.ID})
	got, err := s.MuteConversation(ctx, alice, reblog.ID, true)
	if err != nil || got.ID != reblog.ID {
		t.Fatalf("muting through a reblog: %v, %v", got, err)
	}
	if m, err := st.ThreadMuted(ctx, alice.ID, root.ID); err != nil || !m {
		t.Errorf("the reblogged status's thread is not muted: %v, %v", m, err)
	}
	if _, err := s.MuteConversation(ctx, alice, root.ID, false); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.ThreadMuted(ctx, alice.ID, reply.ID); m {
		t.Errorf("still muted after unmute")
	}

	// Removing someone who does not follow: nothing happens.
	if err := s.RemoveFromFollowers(ctx, alice, bob.ID); err != nil {
		t.Errorf("removing a non-follower: %v", err)
	}

	// The first 40 ids count.
	many := make([]int64, 0, 41)
	for range 40 {
		many = append(many, 999)
	}
	if got, err := s.Accounts(ctx, append(many, bob.ID)); err != nil || len(got) != 0 {
		t.Errorf("the 41st id was read: %v, %v", got, err)
	}

	// Domain blocks: hidden unless the switch is on; then the silenced
	// and suspended ones only.
	for _, d := range []struct {
		domain           string
		silence, suspend bool
	}{{"a.example", false, true}, {"b.example", true, false}, {"c.example", false, false}} {
		if d.suspend {
			_, err = st.BlockDomain(ctx, d.domain, "", now)
		} else {
			_, err = st.LimitDomain(ctx, d.domain, "", d.silence, true, now)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PublicDomainBlocks(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("domain blocks while hidden: %v", err)
	}
	cfg.Federation.PublicDomainBlocks = true
	blocks, err := s.PublicDomainBlocks(ctx)
	if err != nil || len(blocks) != 2 || blocks[0].Domain != "a.example" || blocks[1].Domain != "b.example" {
		t.Errorf("public domain blocks: %+v, %v; want a.example and b.example", blocks, err)
	}
}
