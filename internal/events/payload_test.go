package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func bigDeletion(mentions int) Event {
	g := &Gone{Visibility: 3}
	for i := range mentions {
		g.Mentioned = append(g.Mentioned, 1_000_000_000_000_000_000+int64(i))
	}
	return Event{Kind: StatusDeleted, Status: 42, Account: 7, Gone: g}
}

func TestEncodeFitsAndRoundTrips(t *testing.T) {
	for _, e := range []Event{
		{Kind: StatusCreated, Status: 1, Account: 2, Reach: ReachAll},
		{Kind: NotificationCreated, Account: 2, Notification: 9},
		{Kind: FiltersChanged, Account: 2},
		{Kind: TokensRevoked, Account: 3},
		bigDeletion(10),
		bigDeletion(400),   // just past one payload
		bigDeletion(20000), // many parts
	} {
		payloads, err := encode(e, "abc123", 5)
		if err != nil {
			t.Fatal(err)
		}
		var a assembler
		var got []Event
		for i, p := range payloads {
			if len(p) > maxPayload || !utf8.ValidString(p) || strings.ContainsRune(p, 0) {
				t.Fatalf("payload %d: %d bytes (max %d), or not valid text", i, len(p), maxPayload)
			}
			ev, ok, err := a.add(p)
			if err != nil {
				t.Fatalf("payload %d: %v", i, err)
			}
			if ok {
				got = append(got, ev)
			}
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], e) {
			t.Fatalf("%d payloads gave %d events; want the one published", len(payloads), len(got))
		}
		if len(a.pending) != 0 {
			t.Fatalf("%d events left pending", len(a.pending))
		}
	}
}

func TestEncodeRefusesPastMaxParts(t *testing.T) {
	if _, err := encode(bigDeletion(60000), "s", 1); err == nil {
		t.Fatal("an event past maxParts was encoded")
	}
}

// Parts of two senders' events may interleave; parts out of order, cut
// short or without their first are dropped, and what follows still arrives.
func TestAssemblerInterleavedAndBrokenParts(t *testing.T) {
	a1, err := encode(bigDeletion(1000), "one", 1)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := encode(bigDeletion(1001), "two", 1)
	small := `{"k":"status.created","s":5,"a":6,"r":7}`
	var a assembler
	var got int
	feed := func(p string, wantErr bool) {
		t.Helper()
		_, ok, err := a.add(p)
		if (err != nil) != wantErr {
			t.Fatalf("add(%.40q): err %v, want error %v", p, err, wantErr)
		}
		if ok {
			got++
		}
	}
	for i := range max(len(a1), len(a2)) {
		if i < len(a1) {
			feed(a1[i], false)
		}
		feed(small, false)
		if i < len(a2) {
			feed(a2[i], false)
		}
	}
	if want := 2 + max(len(a1), len(a2)); got != want {
		t.Fatalf("got %d events, want %d", got, want)
	}

	got = 0
	feed(a1[1], true) // no first part
	feed(a1[0], false)
	feed(a1[2], true) // a part skipped
	feed(a1[1], true) // the event is gone
	feed(a1[0], false)
	b1, _ := encode(bigDeletion(1000), "one", 2)
	feed(b1[0], true) // cuts event 1 short
	for _, p := range b1[1:] {
		feed(p, false)
	}
	if got != 1 {
		t.Fatalf("got %d events, want 1", got)
	}
}

func TestDecodeRefusesWhatIsNotAnEvent(t *testing.T) {
	for _, p := range []string{
		``, `{`, `null`, `{}`, `[]`, `hello`, `{"k":"status.created"}`, `{"k":"nope","s":1,"a":1}`,
		`{"k":"status.deleted","s":1,"a":1}`, `{"k":"status.created","s":-1,"a":1}`,
		`{"k":"status.created","s":1,"a":1,"r":255}`, `{"k":"notification.created","a":1}`,
		`{"k":"status.deleted","s":1,"a":1,"g":{"m":[0]}}`,
		`#`, `#s 1 1/1 {}`, `#s 1 0/2 x`, `#s 1 3/2 x`, `#s x 1/2 y`, `#s 1 1/999 x`, `# 1 1/2 x`, `#s 1 1/2`,
	} {
		var a assembler
		if _, ok, err := a.add(p); ok || err == nil {
			t.Errorf("%q: ok %v err %v; want refused", p, ok, err)
		}
	}
	var a assembler
	e, ok, err := a.add(`{"k":"status.created","s":1,"a":2,"r":7,"new":"field"}`)
	if !ok || err != nil || e.Status != 1 {
		t.Fatalf("an event with a field this version does not know: %v %v %+v", ok, err, e)
	}
}

// FuzzPayload: whatever arrives on the channel (anyone who may connect to
// the database can notify), the receiver neither panics nor holds more than
// its bounds, and what it accepts is a well-formed event that encodes back
// to payloads it accepts again.
func FuzzPayload(f *testing.F) {
	f.Add(`{"k":"status.created","s":1,"a":2,"r":7}`, `{"k":"notification.created","a":2,"n":3}`)
	f.Add(`{"k":"status.deleted","s":1,"a":2,"g":{"v":3,"m":[4,5],"r":6,"ra":7,"rv":1}}`, ``)
	parts, _ := encode(bigDeletion(500), "ab", 3)
	f.Add(parts[0], parts[1])
	f.Add(parts[1], parts[0])
	f.Add(`#ab 3 1/2 {"k":"status.created",`, `#ab 3 2/2 "s":1,"a":2}`)
	f.Fuzz(func(t *testing.T, p1, p2 string) {
		var a assembler
		for _, p := range []string{p1, p2, p1} {
			e, ok, _ := a.add(p)
			if len(a.pending) > maxSenders {
				t.Fatalf("%d events pending", len(a.pending))
			}
			for _, pp := range a.pending {
				if pp.n > maxParts || pp.json.Len() > maxParts*maxPayload {
					t.Fatalf("a pending event past the bounds: %d parts, %d bytes", pp.n, pp.json.Len())
				}
			}
			if !ok {
				continue
			}
			if err := e.check(); err != nil {
				t.Fatalf("accepted %+v: %v", e, err)
			}
			again, err := encode(e, "x", 1)
			if err != nil {
				continue // past maxParts: the sender drops it
			}
			var b assembler
			var back []Event
			for _, q := range again {
				ev, ok, err := b.add(q)
				if err != nil {
					t.Fatalf("re-encoded %+v refused: %v", e, err)
				}
				if ok {
					back = append(back, ev)
				}
			}
			// Compared as JSON: an empty list and none are the same event.
			if len(back) != 1 || !sameJSON(back[0], e) {
				t.Fatalf("re-encoded %+v came back as %+v", e, back)
			}
		}
	})
}

func sameJSON(a, b Event) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
