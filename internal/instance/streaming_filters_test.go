package instance

import (
	"encoding/json"
	"net/url"
	"testing"
)

// A subscriber's filters apply to its streams as to the REST timelines
// they follow: a hiding filter of the home context keeps a matching status
// off the user stream but not off the public one, where it comes with
// filtered[]; a warning filter's match comes with filtered[]; a hiding
// filter of the notifications context keeps the mention's notification
// off the stream. Events reach a stream in order, so a later plain post's
// arrival shows the earlier ones were left out, not late. A change of the
// filters is told to the user stream (filters_changed, as Mastodon's).
func TestStreamingAppliesFilters(t *testing.T) {
	s := newSocial(t)
	alice, bob := s.user("alice"), s.user("bob")
	s.follow(alice, bob)
	s.must(alice, "POST", "/api/v2/filters", url.Values{"title": {"hidden"}, "context[]": {"home", "notifications"}, "filter_action": {"hide"},
		"keywords_attributes[][keyword]": {"secret"}})
	s.must(alice, "POST", "/api/v2/filters", url.Values{"title": {"warned"}, "context[]": {"home"}, "filter_action": {"warn"},
		"keywords_attributes[][keyword]": {"maybe"}})
	sock := s.openStream(alice, "user", "public")
	sock.settle(func() string { return s.post(bob, "settling", "visibility", "public") })

	hidden := s.post(bob, "a secret plan", "visibility", "public")
	mention := s.post(bob, "@alice the secret, privately", "visibility", "public")
	warned := s.post(bob, "maybe later", "visibility", "public")
	after := s.post(bob, "@alice plain, after", "visibility", "public")

	var home, public []streamEvent
	var notified []string
	for _, e := range sock.until(func(e streamEvent) bool {
		return e.Event == "notification" && e.statusOf(t)["status"].(map[string]any)["id"] == after
	}) {
		switch {
		case e.Event == "notification":
			notified = append(notified, e.statusOf(t)["status"].(map[string]any)["id"].(string))
		case e.Event == "update" && e.streamName() == "user":
			home = append(home, e)
		case e.Event == "update" && e.streamName() == "public":
			public = append(public, e)
		}
	}
	// The public stream may lag the notification: wait for its last post.
	if len(public) == 0 || public[len(public)-1].statusOf(t)["id"] != after {
		public = append(public, sock.until(func(e streamEvent) bool { return e.streamName() == "public" && isUpdateOf(after)(e) })...)
	}
	byID := func(list []streamEvent) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, e := range list {
			if e.Event == "update" {
				m := e.statusOf(t)
				out[m["id"].(string)] = m
			}
		}
		return out
	}
	h, p := byID(home), byID(public)
	if _, ok := h[hidden]; ok {
		t.Error("the hidden status reached the user stream")
	}
	if _, ok := h[mention]; ok {
		t.Error("the hidden mention reached the user stream")
	}
	for _, id := range notified {
		if id == mention {
			t.Error("the hidden mention's notification reached the stream")
		}
	}
	if st, ok := h[warned]; !ok || len(st["filtered"].([]any)) != 1 {
		t.Errorf("the warned status on the user stream: %v", st)
	}
	if st, ok := h[after]; !ok || len(st["filtered"].([]any)) != 0 {
		t.Errorf("the plain status on the user stream: %v", st)
	}
	if st, ok := p[hidden]; !ok || len(st["filtered"].([]any)) != 1 {
		t.Errorf("the status hidden at home, on the public stream: %v", st)
	}

	// Deleting a filter: filters_changed on the user stream, not the public one.
	list := s.must(alice, "GET", "/api/v2/filters", nil)
	var filters []map[string]any
	if err := json.Unmarshal([]byte(list.body), &filters); err != nil || len(filters) != 2 {
		t.Fatalf("filters: %v %s", err, list.body)
	}
	s.must(alice, "DELETE", "/api/v2/filters/"+filters[0]["id"].(string), nil)
	got := sock.until(func(e streamEvent) bool { return e.Event == "filters_changed" })
	if e := got[len(got)-1]; e.streamName() != "user" || e.Payload != "" {
		t.Errorf("filters_changed: %+v", e)
	}
}
