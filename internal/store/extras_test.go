package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A private note shows in the writer's Relationship with the account, in
// the same statement as the rest, to no one else; an empty one removes it.
func TestAccountNotesInRelationships(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000).UTC()
	f := newStartupFixture(t, []string{"alice", "bob", "carol"}, at)
	if err := f.s.SetAccountNote(f.ctx, 1, 2, "met at the meetup", at); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Follow(f.ctx, 500, 1, 2, FollowOptions{ShowReblogs: true}, at); err != nil {
		t.Fatal(err)
	}
	rels, err := f.s.Relationships(f.ctx, 1, []int64{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if r := rels[2]; r.Note != "met at the meetup" || !r.Following {
		t.Errorf("alice's relationship with bob: %+v, want the note and following", r)
	}
	if r := rels[3]; r.Note != "" {
		t.Errorf("alice's relationship with carol: note %q, want none", r.Note)
	}
	if rels, _ := f.s.Relationships(f.ctx, 3, []int64{2}); rels[2].Note != "" {
		t.Errorf("carol sees alice's note on bob: %q", rels[2].Note)
	}
	if rels, _ := f.s.Relationships(f.ctx, 2, []int64{1}); rels[1].Note != "" {
		t.Errorf("bob sees alice's note about him: %q", rels[1].Note)
	}
	// A new note replaces the old; an empty one removes it.
	if err := f.s.SetAccountNote(f.ctx, 1, 2, "second thoughts", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if rels, _ := f.s.Relationships(f.ctx, 1, []int64{2}); rels[2].Note != "second thoughts" {
		t.Errorf("after a second note: %q", rels[2].Note)
	}
	if err := f.s.SetAccountNote(f.ctx, 1, 2, "", at); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.s.read.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM account_notes`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after an empty note: %d rows (%v), want none", n, err)
	}
	// A deleted account's notes, both ways, go with it.
	if err := f.s.SetAccountNote(f.ctx, 1, 3, "about carol", at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetAccountNote(f.ctx, 3, 2, "carol's", at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteLocalAccount(f.ctx, 3, at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.read.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM account_notes`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after carol's deletion: %d notes (%v), want none", n, err)
	}
}

// threadFixture: alice (1) posts 10, bob (2) replies 11, alice replies 12;
// 20 is alice's other thread; 30 is bob's reblog of 10.
func threadFixture(t *testing.T) *startupFixture {
	t.Helper()
	at := time.UnixMilli(1_700_000_000_000).UTC()
	f := newStartupFixture(t, []string{"alice", "bob", "carol"}, at)
	for _, st := range []*Status{
		{ID: 10, AccountID: 1, Text: "root"},
		{ID: 11, AccountID: 2, Text: "reply", InReplyToID: 10, InReplyToAccountID: 1},
		{ID: 12, AccountID: 1, Text: "reply to the reply", InReplyToID: 11, InReplyToAccountID: 2},
		{ID: 20, AccountID: 1, Text: "another thread"},
		{ID: 30, AccountID: 2, ReblogOfID: 10},
	} {
		st.Local, st.Visibility, st.CreatedAt = true, Public, at.Add(time.Duration(st.ID)*time.Millisecond)
		st.URI = fmt.Sprintf("https://example.test/statuses/%d", st.ID)
		if err := f.s.CreateStatus(f.ctx, NewStatus{Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// A muted thread is found from any of its statuses, for its muter only:
// in the viewer flags (one viewer and many) and in what notifies.
func TestConversationMutes(t *testing.T) {
	f := threadFixture(t)
	for id, want := range map[int64]int64{10: 10, 11: 10, 12: 10, 20: 20} {
		if root, err := f.s.ThreadRoot(f.ctx, id); err != nil || root != want {
			t.Errorf("ThreadRoot(%d) = %d, %v; want %d", id, root, err, want)
		}
	}
	if _, err := f.s.ThreadRoot(f.ctx, 99); err != ErrNotFound {
		t.Errorf("ThreadRoot of nothing: %v, want ErrNotFound", err)
	}
	if err := f.s.MuteConversation(f.ctx, 1, 10, f.at); err != nil {
		t.Fatal(err)
	}
	if err := f.s.MuteConversation(f.ctx, 1, 10, f.at); err != nil {
		t.Fatalf("muting again: %v", err)
	}
	ids := []int64{10, 11, 12, 20, 30}
	muted := func(flags map[int64]ViewerFlags) []int64 {
		var out []int64
		for _, id := range ids {
			if flags[id].Muted {
				out = append(out, id)
			}
		}
		return out
	}
	flags, err := f.s.ViewerFlagsFor(f.ctx, 1, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got := muted(flags); !reflect.DeepEqual(got, []int64{10, 11, 12}) {
		t.Errorf("alice's muted statuses: %v, want 10, 11, 12 (not the other thread, nor the reblog wrapper)", got)
	}
	if flags, _ := f.s.ViewerFlagsFor(f.ctx, 2, ids); len(muted(flags)) != 0 {
		t.Errorf("bob's muted statuses: %v, want none", muted(flags))
	}
	many, err := f.s.ViewerFlagsForMany(f.ctx, []int64{1, 2}, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got := muted(many[1]); !reflect.DeepEqual(got, []int64{10, 11, 12}) || len(muted(many[2])) != 0 {
		t.Errorf("many viewers: alice %v, bob %v; want 10, 11, 12 and none", got, muted(many[2]))
	}
	for _, c := range []struct {
		to, status int64
		typ        string
		stored     bool
	}{
		{1, 11, "mention", false},   // a reply in the muted thread
		{1, 10, "favourite", false}, // the root favourited
		{1, 12, "reblog", false},
		{1, 20, "favourite", true}, // another thread
		{1, 0, "follow", true},     // no status
		{2, 12, "mention", true},   // bob muted nothing
	} {
		stored, err := f.s.CreateNotification(f.ctx, &Notification{ID: 1000 + c.status*10 + c.to, AccountID: c.to, FromAccountID: 3,
			Type: c.typ, StatusID: c.status, CreatedAt: f.at})
		if err != nil || stored != c.stored {
			t.Errorf("notification %s of %d to %d: stored %v (%v), want %v", c.typ, c.status, c.to, stored, err, c.stored)
		}
	}
	if m, err := f.s.ThreadMuted(f.ctx, 1, 12); err != nil || !m {
		t.Errorf("ThreadMuted(alice, 12) = %v, %v", m, err)
	}
	if err := f.s.UnmuteConversation(f.ctx, 1, 10); err != nil {
		t.Fatal(err)
	}
	if m, err := f.s.ThreadMuted(f.ctx, 1, 12); err != nil || m {
		t.Errorf("after unmute: ThreadMuted = %v, %v", m, err)
	}
	if stored, err := f.s.CreateNotification(f.ctx, &Notification{ID: 5000, AccountID: 1, FromAccountID: 3, Type: "mention", StatusID: 11, CreatedAt: f.at}); err != nil || !stored {
		t.Errorf("after unmute: a mention in the thread stored %v (%v)", stored, err)
	}
}

// Several accounts at once: in the order asked, each once, without those
// others may not see.
func TestVisibleAccountIDs(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000).UTC()
	f := newStartupFixture(t, []string{"alice", "bob", "carol", "dave"}, at)
	pending := &Account{ID: 5, Username: "pending", URI: "https://example.test/users/pending", CreatedAt: at, UpdatedAt: at}
	if err := f.s.CreateLocalAccount(f.ctx, pending, &User{Email: "p@example.test", PasswordHash: "x", Role: "user", Locale: "en",
		DefaultPrivacy: "public", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.write.ExecContext(f.ctx, `UPDATE users SET disabled = 1 WHERE account_id = 2`); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteLocalAccount(f.ctx, 3, at); err != nil {
		t.Fatal(err)
	}
	f.remote(t, 6, "rem", "remote.test")
	got, err := f.s.VisibleAccountIDs(f.ctx, []int64{6, 5, 4, 3, 2, 1, 99, 4, 6})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{6, 4, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("visible accounts: %v, want %v", got, want)
	}
}

// The thread walks seek statuses by primary key, and each status of a
// chain finds its mutes by an index: no statement scans statuses or
// conversation_mutes.
func TestConversationMutePlans(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 2)
	in, list := inList([]int64{1, 2})
	with, args := mutedThreadsCTE(in, list)
	for _, q := range []struct {
		name, sql string
		args      []any
	}{
		{"muted flag", with + mutedFlagSQL, append(args, 1)},
		{"muted flags of many", with + mutedFlagsManySQL, append(args, "[1,2]")},
		{"thread muted", `SELECT ` + threadMutedSQL, threadMutedArgs(1, 1)},
	} {
		plan := explainAll(t, f.s, q.sql, q.args)
		for _, line := range strings.Split(plan, "\n") {
			if strings.HasPrefix(line, "SCAN ") && line != "SCAN up" && line != "SCAN CONSTANT ROW" && !strings.HasPrefix(line, "SCAN v VIRTUAL TABLE") {
				t.Errorf("%s: a scan (%s):\n%s", q.name, line, plan)
			}
		}
		if !strings.Contains(plan, "cm USING") {
			t.Errorf("%s: conversation_mutes is not sought by an index:\n%s", q.name, plan)
		}
	}
}
