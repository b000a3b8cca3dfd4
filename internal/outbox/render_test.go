package outbox

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
	"github.com/rampart-social/rampart/internal/testutil"
)

// A status with a poll federates as Mastodon writes one: a Question with
// oneOf (anyOf when multiple), each option's votes as replies.totalItems
// (null while totals are hidden), endTime, votersCount, and closed once
// it has ended.
func TestNoteWithAPollIsAQuestion(t *testing.T) {
	r := NewRenderer(testutil.ProdConfig(t, t.TempDir()))
	author := &store.Account{ID: 1, Username: "alice", URI: "https://example.test/users/alice", URL: "https://example.test/@alice"}
	end := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	note := func(p *store.Poll) map[string]any {
		t.Helper()
		st := &store.Status{ID: 7, URI: author.URI + "/statuses/7", AccountID: 1, Local: true, Content: "<p>Tea?</p>", CreatedAt: end.Add(-time.Hour)}
		b, err := json.Marshal(r.Note(&social.Note{Status: st, Author: author, Poll: p}))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	poll := &store.Poll{ID: 9, StatusID: 7, AccountID: 1, ExpiresAt: end, VotesCount: 3, VotersCount: 3,
		Options: []store.PollOption{{Title: "Tea", VotesCount: 2}, {Title: "Coffee", VotesCount: 1}}}
	q := note(poll)
	b, _ := json.Marshal(map[string]any{"type": q["type"], "oneOf": q["oneOf"], "endTime": q["endTime"], "votersCount": q["votersCount"]})
	want := `{"endTime":"2030-01-02T03:04:05Z","oneOf":[{"name":"Tea","replies":{"totalItems":2,"type":"Collection"},"type":"Note"},` +
		`{"name":"Coffee","replies":{"totalItems":1,"type":"Collection"},"type":"Note"}],"type":"Question","votersCount":3}`
	if string(b) != want {
		t.Errorf("Question:\n%s\nwant\n%s", b, want)
	}
	if _, ok := q["anyOf"]; ok || q["closed"] != nil || !strings.Contains(mustJSON(q["@context"]), "toot:votersCount") {
		t.Errorf("an open single-choice poll: anyOf %v, closed %v, context %v", q["anyOf"], q["closed"], q["@context"])
	}

	poll.Multiple, poll.HideTotals = true, true
	q = note(poll)
	if _, ok := q["oneOf"]; ok || !strings.Contains(mustJSON(q["anyOf"]), `"totalItems":null`) {
		t.Errorf("a multiple-choice poll hiding its totals: oneOf %v, anyOf %v", q["oneOf"], q["anyOf"])
	}
	poll.ExpiresAt = time.Now().Add(-time.Minute).Truncate(time.Second)
	q = note(poll)
	if q["closed"] != poll.ExpiresAt.UTC().Format(time.RFC3339) || strings.Contains(mustJSON(q["anyOf"]), "null") {
		t.Errorf("an ended poll: closed %v, anyOf %v", q["closed"], q["anyOf"])
	}

	plain := note(nil)
	if plain["type"] != "Note" || plain["endTime"] != nil || strings.Contains(mustJSON(plain["@context"]), "votersCount") {
		t.Errorf("a status without a poll: %v", plain)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
