package instance

import (
	"testing"
)

// TestNotificationsAcrossABlockStayHidden: once either side blocks the other,
// the recipient's notifications from that account are hidden — also those
// whose status the recipient can still see (a favourite or reblog of its own
// post) — and nothing new is written while the block lasts: after unblocking,
// the earlier notifications come back but none for what happened during the
// block.
func TestNotificationsAcrossABlockStayHidden(t *testing.T) {
	s := newSocial(t)
	alice, bob, carol, dave := s.user("alice"), s.user("bob"), s.user("carol"), s.user("dave")
	post := s.post(alice, "hello", "visibility", "public")
	s.act(bob, "statuses/"+post+"/favourite")
	s.act(bob, "statuses/"+post+"/reblog")
	mention := s.post(bob, "@alice hi", "visibility", "public")
	s.act(carol, "statuses/"+post+"/favourite")
	s.act(dave, "statuses/"+post+"/favourite") // a bystander's: stays throughout

	earlier := map[string][3]string{
		"bob's favourite":   {"favourite", bob.id, post},
		"bob's reblog":      {"reblog", bob.id, post},
		"bob's mention":     {"mention", bob.id, mention},
		"carol's favourite": {"favourite", carol.id, post},
		"dave's favourite":  {"favourite", dave.id, post},
	}
	notes := s.notes(alice, "")
	for name, n := range earlier {
		if !hasNote(notes, n[0], n[1], n[2]) {
			t.Fatalf("before the blocks alice lacks %s: %v", name, notes)
		}
	}
	ids := map[string]string{}
	for _, n := range notes {
		ids[n.from+" "+n.typ] = n.id
	}

	s.act(alice, "accounts/"+bob.id+"/block")   // the recipient blocks the sender
	s.act(carol, "accounts/"+alice.id+"/block") // the sender blocks the recipient
	notes = s.notes(alice, "")
	for _, n := range notes {
		if n.from == bob.id || n.from == carol.id {
			t.Errorf("after the blocks alice still sees a %s from %s", n.typ, map[string]string{bob.id: "bob", carol.id: "carol"}[n.from])
		}
	}
	if !hasNote(notes, "favourite", dave.id, post) {
		t.Errorf("a bystander's notification vanished too: %v", notes)
	}
	for _, key := range []string{bob.id + " favourite", bob.id + " reblog", carol.id + " favourite"} {
		if r := s.req(alice, "GET", "/api/v1/notifications/"+ids[key], nil); r.status != 404 {
			t.Errorf("GET the hidden notification (%s): %d, want 404", key, r.status)
		}
	}

	// During the blocks: mentions across them are not written at all.
	during := s.post(bob, "@alice during the block", "visibility", "public")
	duringCarol := s.post(carol, "@alice during the block", "visibility", "public")
	if notes := s.notes(alice, ""); len(notes) != 1 {
		t.Errorf("during the blocks alice has %v, want dave's favourite only", notes)
	}

	s.act(alice, "accounts/"+bob.id+"/unblock")
	s.act(carol, "accounts/"+alice.id+"/unblock")
	notes = s.notes(alice, "")
	for name, n := range earlier {
		if !hasNote(notes, n[0], n[1], n[2]) {
			t.Errorf("after unblocking alice lacks %s (hidden, not deleted): %v", name, notes)
		}
	}
	for _, st := range []string{during, duringCarol} {
		if s.statusCode(alice, st) != 200 {
			t.Fatalf("after unblocking alice cannot see status %s: the check below would mean nothing", st)
		}
		for _, n := range notes {
			if n.status == st {
				t.Errorf("a %s notification written during the block appeared after it: %+v", n.typ, n)
			}
		}
	}
}
