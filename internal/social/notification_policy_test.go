package social

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/id"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/store/storetest"
	"github.com/rampart-social/rampart/internal/testutil"
)

// The policy's rules, as Mastodon 4.3 applies them.
func TestPolicyDecision(t *testing.T) {
	now := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	old := now.Add(-365 * 24 * time.Hour)
	custom := func(notFollowing, notFollowers, newAccounts, private, limited string) store.NotificationFacts {
		return store.NotificationFacts{PolicyFound: true, SenderSince: old,
			Policy: store.NotificationPolicy{ForNotFollowing: notFollowing, ForNotFollowers: notFollowers, ForNewAccounts: newAccounts,
				ForPrivateMentions: private, ForLimitedAccounts: limited}}
	}
	stranger := store.NotificationFacts{SenderSince: old}
	with := func(f store.NotificationFacts, change func(*store.NotificationFacts)) store.NotificationFacts {
		change(&f)
		return f
	}
	for _, c := range []struct {
		name  string
		facts store.NotificationFacts
		typ   string
		want  string
	}{
		{"defaults: a stranger's favourite", stranger, "favourite", PolicyAccept},
		{"defaults: a stranger's public mention", stranger, "mention", PolicyAccept},
		{"defaults: a stranger's private mention", with(stranger, func(f *store.NotificationFacts) { f.Direct = true }), "mention", PolicyFilter},
		{"defaults: an answer to one's own private mention", with(stranger, func(f *store.NotificationFacts) { f.Direct, f.RepliesToDMs = true, true }), "mention", PolicyAccept},
		{"defaults: a followed account's private mention", with(stranger, func(f *store.NotificationFacts) { f.Direct, f.Following = true, true }), "mention", PolicyAccept},
		{"defaults: a limited stranger", with(stranger, func(f *store.NotificationFacts) { f.Limited = true }), "follow", PolicyFilter},
		{"defaults: a limited account one follows", with(stranger, func(f *store.NotificationFacts) { f.Limited, f.Following = true, true }), "follow", PolicyAccept},
		{"an accepted sender", with(custom("drop", "drop", "drop", "drop", "drop"), func(f *store.NotificationFacts) { f.Permitted = true }), "mention", PolicyAccept},
		{"a type never held back", custom("drop", "drop", "drop", "drop", "drop"), "status", PolicyAccept},
		{"drop wins over filter", custom("filter", "drop", "accept", "accept", "accept"), "favourite", PolicyDrop},
		{"not following: filter", custom("filter", "accept", "accept", "accept", "accept"), "reblog", PolicyFilter},
		{"following", with(custom("drop", "accept", "accept", "accept", "accept"), func(f *store.NotificationFacts) { f.Following = true }), "reblog", PolicyAccept},
		{"a follower of two days is not yet one", with(custom("accept", "filter", "accept", "accept", "accept"), func(f *store.NotificationFacts) {
			f.FollowerAt = now.Add(-48 * time.Hour)
		}), "favourite", PolicyFilter},
		{"a follower of four days", with(custom("accept", "filter", "accept", "accept", "accept"), func(f *store.NotificationFacts) {
			f.FollowerAt = now.Add(-96 * time.Hour)
		}), "favourite", PolicyAccept},
		{"a new account", with(custom("accept", "accept", "drop", "accept", "accept"), func(f *store.NotificationFacts) { f.SenderSince = now.Add(-24 * time.Hour) }), "follow", PolicyDrop},
	} {
		if got := policyDecision(c.facts, c.typ, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// pair is a service over a store with two local accounts, alice and bob.
func pair(t *testing.T) (*Service, *store.Store, int64, int64) {
	t.Helper()
	ctx := context.Background()
	st, err := storetest.OpenErr(t, filepath.Join(t.TempDir(), "rampart.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ids := id.NewGenerator()
	now := time.Now()
	var accs []int64
	for _, name := range []string{"alice", "bob"} {
		a := &store.Account{ID: ids.Next(), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name, CreatedAt: now, UpdatedAt: now}
		u := &store.User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: now}
		if err := st.CreateLocalAccount(ctx, a, u); err != nil {
			t.Fatal(err)
		}
		accs = append(accs, a.ID)
	}
	return New(testutil.ProdConfig(t, t.TempDir()), st, ids, nil), st, accs[0], accs[1]
}

// A group takes the notifications of its type and status for twelve hours
// from its first one's hour; then the next group begins.
func TestGroupKeysSpanTwelveHours(t *testing.T) {
	ctx := context.Background()
	s, st, alice, bob := pair(t)
	start := time.Date(2026, 12, 8, 0, 30, 0, 0, time.UTC)
	hour := start.Unix() / 3600
	var keys []string
	for _, after := range []time.Duration{0, 5 * time.Hour, 11 * time.Hour, 12 * time.Hour, 13 * time.Hour} {
		s.now = func() time.Time { return start.Add(after) }
		if err := s.notify(ctx, alice, bob, "follow", 0); err != nil {
			t.Fatal(err)
		}
		l, err := st.Notifications(ctx, alice, store.NotificationFilter{}, store.Page{Limit: 1})
		if err != nil || len(l) != 1 {
			t.Fatal(l, err)
		}
		keys = append(keys, l[0].GroupKey)
	}
	first, next := "follow-"+strconv.FormatInt(hour, 10), "follow-"+strconv.FormatInt(hour+12, 10)
	want := []string{first, first, first, next, next}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("group keys %v, want %v", keys, want)
			break
		}
	}
}

type recorded struct{ events []events.Event }

func (r *recorded) Publish(e events.Event) { r.events = append(r.events, e) }

// Only a notification the policy lets through is streamed: a held-back
// one is stored without a word, a dropped one not at all.
func TestOnlyAcceptedNotificationsAreStreamed(t *testing.T) {
	ctx := context.Background()
	s, st, alice, bob := pair(t)
	rec := &recorded{}
	s.WithEvents(rec)
	for _, c := range []struct {
		policy        string
		stored, heard int
	}{{PolicyFilter, 1, 0}, {PolicyDrop, 1, 0}, {PolicyAccept, 2, 1}} {
		p := DefaultNotificationPolicy
		p.ForNotFollowing = c.policy
		if err := st.SetNotificationPolicy(ctx, alice, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.notify(ctx, alice, bob, "follow", 0); err != nil {
			t.Fatal(err)
		}
		all, err := st.Notifications(ctx, alice, store.NotificationFilter{IncludeFiltered: true}, store.Page{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != c.stored || len(rec.events) != c.heard {
			t.Errorf("after a follow under %s: %d stored, %d streamed; want %d and %d", c.policy, len(all), len(rec.events), c.stored, c.heard)
		}
	}
}
