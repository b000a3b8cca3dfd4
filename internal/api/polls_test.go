package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/store"
)

// checkPoll holds for every Poll entity seen by viewer ("" anonymous):
// Mastodon's fields and types; voted and own_votes only for a signed-in
// viewer.
func checkPoll(t *testing.T, what string, p any, viewer string) {
	t.Helper()
	if !isObject(p) {
		t.Fatalf("%s = %#v, want a Poll", what, p)
	}
	if x, _ := lookup(p, "id"); !isString(x) || !idRe.MatchString(x.(string)) {
		t.Errorf("%s: id = %#v", what, x)
	}
	if x := wantPresent(t, what, p, "expires_at"); x != nil && !isString(x) {
		t.Errorf("%s: expires_at = %#v", what, x)
	}
	for _, k := range []string{"expired", "multiple"} {
		if x := wantPresent(t, what, p, k); !isBool(x) {
			t.Errorf("%s: %s = %#v", what, k, x)
		}
	}
	if x := wantPresent(t, what, p, "votes_count"); !isNumber(x) {
		t.Errorf("%s: votes_count = %#v", what, x)
	}
	if x := wantPresent(t, what, p, "voters_count"); x != nil && !isNumber(x) {
		t.Errorf("%s: voters_count = %#v", what, x)
	}
	if x := wantPresent(t, what, p, "emojis"); !isArray(x) {
		t.Errorf("%s: emojis = %#v", what, x)
	}
	opts, _ := lookup(p, "options")
	if l, ok := opts.([]any); !ok || len(l) < 2 {
		t.Errorf("%s: options = %#v", what, opts)
	} else {
		for _, o := range l {
			if x, _ := lookup(o, "title"); !isString(x) {
				t.Errorf("%s: option title %#v", what, x)
			}
			if x := wantPresent(t, what, o, "votes_count"); x != nil && !isNumber(x) {
				t.Errorf("%s: option votes_count %#v", what, x)
			}
		}
	}
	if viewer == "" {
		wantAbsent(t, what, p, "voted")
		wantAbsent(t, what, p, "own_votes")
	} else {
		if x := wantPresent(t, what, p, "voted"); !isBool(x) {
			t.Errorf("%s: voted = %#v", what, x)
		}
		if x := wantPresent(t, what, p, "own_votes"); !isArray(x) {
			t.Errorf("%s: own_votes = %#v", what, x)
		}
	}
}

func pollForm(status string, options []string, extra ...string) url.Values {
	v := url.Values{"status": {status}, "poll[options][]": options, "poll[expires_in]": {"3600"}, "visibility": {"public"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func optionCounts(p any) []any {
	var out []any
	opts, _ := lookup(p, "options")
	l, _ := opts.([]any)
	for _, o := range l {
		x, _ := lookup(o, "votes_count")
		out = append(out, x)
	}
	return out
}

// A status with a poll, as its author and as a voter sees it (the goldens
// status_with_poll and poll), and GET /api/v1/polls/:id.
func TestPollEntities(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	status := f.postStatus(t, f.aliceTok, "STATUS_POLL", pollForm("Tea or coffee?", []string{"Tea", "Coffee", "Neither"}, "visibility", "public"))
	s := f.get(t, f.aliceTok, "/api/v1/statuses/"+status)
	checkStatus(t, "status with a poll (author)", s, f.aliceID)
	pollID, _ := lookup(s, "poll", "id")
	f.name(fmt.Sprint(pollID), "POLL_ID")
	if x, _ := lookup(s, "poll", "voted"); x != true {
		t.Errorf("the author's poll: voted = %#v, want true (as on Mastodon)", x)
	}
	exp, _ := lookup(s, "poll", "expires_at")
	if at, err := time.Parse(time.RFC3339, fmt.Sprint(exp)); err != nil || at.Sub(time.Now()) < 59*time.Minute || at.Sub(time.Now()) > time.Hour {
		t.Errorf("expires_at %v (%v), want an hour from now", exp, err)
	}
	f.golden(t, "status_with_poll", s)

	target := "/api/v1/polls/" + fmt.Sprint(pollID)
	anon := f.get(t, "", target)
	checkPoll(t, "poll (anonymous)", anon, "")
	p := f.get(t, f.bobTok, target)
	checkPoll(t, "poll (bob)", p, f.bobID)
	if x, _ := lookup(p, "voted"); x != false {
		t.Errorf("bob before voting: voted = %#v", x)
	}

	voted := f.okJSON(t, f.bobTok, http.MethodPost, target+"/votes", url.Values{"choices[]": {"1"}})
	checkPoll(t, "poll after the vote", voted, f.bobID)
	if x, _ := lookup(voted, "voted"); x != true {
		t.Errorf("bob after voting: voted = %#v", x)
	}
	if x, _ := lookup(voted, "own_votes"); fmt.Sprint(x) != "[1]" {
		t.Errorf("own_votes = %v", x)
	}
	if c := optionCounts(voted); fmt.Sprint(c) != "[0 1 0]" {
		t.Errorf("tallies %v", c)
	}
	p = f.get(t, f.bobTok, target)
	if d := f.diff(voted, p); d != "" {
		t.Errorf("the vote's answer and GET differ:\n%s", d)
	}
	f.golden(t, "poll", p)
	// The Status entity carries the same poll for the same viewer.
	if d := f.diff(mustLookup(f.get(t, f.bobTok, "/api/v1/statuses/"+status), "poll"), p); d != "" {
		t.Errorf("Status.poll and the Poll differ:\n%s", d)
	}

	// Voting again, in one's own poll, out of range: 422, Mastodon's shape.
	for _, c := range []struct {
		tok, choice, want string
	}{
		{f.bobTok, "0", "You have already voted on this poll"},
		{f.aliceTok, "0", "You cannot vote in your own polls"},
	} {
		rec := f.call(t, c.tok, http.MethodPost, target+"/votes", url.Values{"choices[]": {c.choice}})
		v := decodeAny(t, rec, http.StatusUnprocessableEntity)
		if x, _ := lookup(v, "error"); x != "Validation failed: "+c.want {
			t.Errorf("error %#v, want %q", x, c.want)
		}
	}
	rec := f.call(t, f.bobTok, http.MethodPost, target+"/votes", url.Values{"choices[]": {"x"}})
	decodeAny(t, rec, http.StatusUnprocessableEntity)
	if rec := f.call(t, f.bobTok, http.MethodGet, "/api/v1/polls/12345", nil); rec.Code != http.StatusNotFound {
		t.Errorf("no such poll: %d", rec.Code)
	}
}

// Creating a poll: the limits (422), a poll with media (422), JSON bodies.
func TestPollCreation(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	for what, form := range map[string]url.Values{
		"one option":      pollForm("q", []string{"only"}),
		"five options":    pollForm("q", []string{"a", "b", "c", "d", "e"}),
		"a long option":   pollForm("q", []string{"a", strings.Repeat("x", 51)}),
		"too soon":        pollForm("q", []string{"a", "b"}, "poll[expires_in]", "299"),
		"too far":         pollForm("q", []string{"a", "b"}, "poll[expires_in]", "2629747"),
		"not a number":    pollForm("q", []string{"a", "b"}, "poll[expires_in]", "soon"),
		"with a media id": pollForm("q", []string{"a", "b"}, "media_ids[]", "1"),
	} {
		rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", form)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", what, rec.Code, rec.Body)
		}
	}
	rec := f.do(t, http.MethodPost, "/api/v1/statuses",
		strings.NewReader(`{"status":"JSON poll","poll":{"options":["x","y"],"expires_in":300,"multiple":true,"hide_totals":true}}`),
		append(bearerHeader(f.aliceTok), "Content-Type", "application/json")...)
	s := wantJSON(t, rec, http.StatusOK)
	if x, _ := lookup(s, "poll", "multiple"); x != true {
		t.Errorf("a poll posted as JSON: %v", s["poll"])
	}
	if c := optionCounts(s["poll"]); fmt.Sprint(c) != "[<nil> <nil>]" {
		t.Errorf("hidden totals to the author: %v, want null (as on Mastodon)", c)
	}
}

// Multiple choice and hidden totals: several choices count each; hidden
// totals are null until the end, for every viewer, then shown.
func TestPollMultipleAndHiddenTotals(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	multi := f.postStatus(t, f.aliceTok, "STATUS_MULTI", pollForm("pick", []string{"a", "b", "c"}, "poll[multiple]", "true"))
	single := f.postStatus(t, f.aliceTok, "STATUS_SINGLE", pollForm("pick one", []string{"a", "b"}))
	hidden := f.postStatus(t, f.aliceTok, "STATUS_HIDDEN", pollForm("secret", []string{"a", "b"}, "poll[hide_totals]", "true"))
	pollOf := func(status string) string {
		id, _ := lookup(f.get(t, f.bobTok, "/api/v1/statuses/"+status), "poll", "id")
		return fmt.Sprint(id)
	}
	v := f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/polls/"+pollOf(multi)+"/votes", url.Values{"choices[]": {"0", "2"}})
	if c := optionCounts(v); fmt.Sprint(c) != "[1 0 1]" {
		t.Errorf("multiple: tallies %v", c)
	}
	for k, want := range map[string]string{"votes_count": "2", "voters_count": "1", "own_votes": "[0 2]"} {
		if x, _ := lookup(v, k); fmt.Sprint(x) != want {
			t.Errorf("multiple: %s = %v, want %s", k, x, want)
		}
	}
	rec := f.call(t, f.bobTok, http.MethodPost, "/api/v1/polls/"+pollOf(single)+"/votes", url.Values{"choices[]": {"0", "1"}})
	decodeAny(t, rec, http.StatusUnprocessableEntity)

	hp := pollOf(hidden)
	v = f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/polls/"+hp+"/votes", url.Values{"choices[]": {"1"}})
	for who, tok := range map[string]string{"bob": f.bobTok, "alice (the author)": f.aliceTok, "anonymous": ""} {
		p := f.get(t, tok, "/api/v1/polls/"+hp)
		if c := optionCounts(p); fmt.Sprint(c) != "[<nil> <nil>]" {
			t.Errorf("hidden totals before the end, as %s: %v", who, c)
		}
		if x, _ := lookup(p, "votes_count"); fmt.Sprint(x) != "1" {
			t.Errorf("votes_count as %s: %v", who, x)
		}
	}
	// At the end the totals show: the entity as rendered then.
	ends := time.Now().Add(time.Hour)
	closed := pollEntity(&store.Poll{ID: 1, AccountID: f.alice.ID, HideTotals: true, ExpiresAt: ends, VotesCount: 1, VotersCount: 1,
		Options: []store.PollOption{{Title: "a"}, {Title: "b", VotesCount: 1}}}, f.bob.ID, ends)
	b, _ := json.Marshal(closed)
	if !closed.Expired || !strings.Contains(string(b), `"options":[{"title":"a","votes_count":0},{"title":"b","votes_count":1}]`) {
		t.Errorf("an ended poll with hidden totals: %s", b)
	}
}

// The routes' scopes: reading takes read:statuses, voting write:statuses;
// voting needs a user.
func TestPollScopes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	status := f.postStatus(t, f.aliceTok, "STATUS_POLL", pollForm("q", []string{"a", "b"}))
	pollID, _ := lookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+status), "poll", "id")
	target := "/api/v1/polls/" + fmt.Sprint(pollID)
	for _, c := range []struct {
		scopes, method, path string
		want                 int
	}{
		{"write follow", http.MethodGet, target, http.StatusForbidden},
		{"read:accounts", http.MethodGet, target, http.StatusForbidden},
		{"read:statuses", http.MethodGet, target, http.StatusOK},
		{"read write:favourites", http.MethodPost, target + "/votes", http.StatusForbidden},
		{"write:statuses", http.MethodPost, target + "/votes", http.StatusOK},
	} {
		tok := f.userToken(t, f.bob, c.scopes)
		var form url.Values
		if c.method == http.MethodPost {
			form = url.Values{"choices[]": {"0"}}
		}
		if rec := f.call(t, tok, c.method, c.path, form); rec.Code != c.want {
			t.Errorf("%s %s with %q: %d %s, want %d", c.method, c.path, c.scopes, rec.Code, rec.Body, c.want)
		}
	}
	if rec := f.call(t, "", http.MethodPost, target+"/votes", url.Values{"choices[]": {"0"}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("an anonymous vote: %d", rec.Code)
	}
}

// A poll is seen, and voted in, only where its status is seen: a
// followers-only status's poll is 404 to a stranger and to anonymous, and
// a poll of an author who blocks the viewer is 404 too.
func TestPollVisibility(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dan, _, err := f.acc.Create(t.Context(), accounts.NewParams{Username: "dan", Email: "dan@example.test", Password: fixturePassword,
		Role: accounts.RoleUser, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	danTok := f.userToken(t, dan, "read write follow")
	status := f.postStatus(t, f.bobTok, "STATUS_PRIVATE_POLL", pollForm("friends only", []string{"a", "b"}, "visibility", "private"))
	pollID, _ := lookup(f.get(t, f.bobTok, "/api/v1/statuses/"+status), "poll", "id")
	target := "/api/v1/polls/" + fmt.Sprint(pollID)
	for who, tok := range map[string]string{"a stranger": danTok, "anonymous": ""} {
		if rec := f.call(t, tok, http.MethodGet, target, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s reads a followers-only poll: %d", who, rec.Code)
		}
	}
	if rec := f.call(t, danTok, http.MethodPost, target+"/votes", url.Values{"choices[]": {"0"}}); rec.Code != http.StatusNotFound {
		t.Errorf("a stranger votes in a followers-only poll: %d", rec.Code)
	}
	// alice follows bob: she sees it and votes.
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/follow", nil)
	f.get(t, f.aliceTok, target)
	f.okJSON(t, f.aliceTok, http.MethodPost, target+"/votes", url.Values{"choices[]": {"0"}})

	public := f.postStatus(t, f.bobTok, "STATUS_PUBLIC_POLL", pollForm("everyone", []string{"a", "b"}, "visibility", "public"))
	pub, _ := lookup(f.get(t, danTok, "/api/v1/statuses/"+public), "poll", "id")
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+idString(dan.ID)+"/block", nil)
	if rec := f.call(t, danTok, http.MethodGet, "/api/v1/polls/"+fmt.Sprint(pub), nil); rec.Code != http.StatusNotFound {
		t.Errorf("blocked by the author, the poll reads: %d", rec.Code)
	}
	if rec := f.call(t, danTok, http.MethodPost, "/api/v1/polls/"+fmt.Sprint(pub)+"/votes", url.Values{"choices[]": {"0"}}); rec.Code != http.StatusNotFound {
		t.Errorf("blocked by the author, a vote: %d", rec.Code)
	}
}

// GET /api/v1/polls/:id runs a fixed number of statements (the token, the
// status under the visibility rule, the poll with the viewer's votes) and
// writes nothing.
func TestPollReadIsFixedCost(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	status := f.postStatus(t, f.aliceTok, "STATUS_POLL", pollForm("q", []string{"a", "b", "c", "d"}))
	pollID, _ := lookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+status), "poll", "id")
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/polls/"+fmt.Sprint(pollID)+"/votes", url.Values{"choices[]": {"2"}})
	before, writes := f.st.StatementCount(), f.st.WriteCount()
	f.get(t, f.bobTok, "/api/v1/polls/"+fmt.Sprint(pollID))
	if n := f.st.StatementCount() - before; n != 3 {
		t.Errorf("GET /api/v1/polls/:id ran %d statements, want 3", n)
	}
	if f.st.WriteCount() != writes {
		t.Error("GET /api/v1/polls/:id wrote to the database")
	}
}

// The instance documents advertise the limits the service enforces.
func TestInstanceAdvertisesPollLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v2 := e.getJSON(t, "/api/v2/instance")
	v1 := e.getJSON(t, "/api/v1/instance")
	for _, doc := range []map[string]any{v2, v1} {
		p, _ := lookup(doc, "configuration", "polls")
		if fmt.Sprint(p) != "map[max_characters_per_option:50 max_expiration:2629746 max_options:4 min_expiration:300]" {
			t.Errorf("configuration.polls = %v", p)
		}
	}
}

// A poll's end is a "poll" notification from its author, to each voter and
// to the author (the golden notification_poll), readable through types[].
func TestPollNotificationEntity(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	status := f.postStatus(t, f.aliceTok, "STATUS_POLL", pollForm("Tea or coffee?", []string{"Tea", "Coffee"}))
	pollID, _ := lookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+status), "poll", "id")
	f.name(fmt.Sprint(pollID), "POLL_ID")
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/polls/"+fmt.Sprint(pollID)+"/votes", url.Values{"choices[]": {"0"}})
	var n int64 = 1
	// The job's store call, as it runs at the end (the service test runs the job itself).
	stored, _, err := f.st.EndPoll(t.Context(), mustID(t, fmt.Sprint(pollID)), time.Now().Add(2*time.Hour), func() int64 { n++; return 1_000_000_000_000 + n }, nil)
	if err != nil || len(stored) != 2 {
		t.Fatalf("EndPoll: %v %v", stored, err)
	}
	for who, tok := range map[string]string{f.aliceID: f.aliceTok, f.bobID: f.bobTok} {
		l := asList(t, f.get(t, tok, "/api/v1/notifications?types[]=poll"))
		if len(l) != 1 {
			t.Fatalf("%s has %d poll notifications", who, len(l))
		}
		checkNotification(t, "poll notification", l[0], who)
		wantString(t, "poll notification", l[0], f.aliceID, "account", "id")
		wantString(t, "poll notification", l[0], status, "status", "id")
		if who == f.bobID {
			f.name(mustLookup(l[0], "id").(string), "NOTIFICATION_ID")
			f.golden(t, "notification_poll", l[0])
		}
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The stream renders a status once for many viewers, without any viewer's
// votes: its poll carries no voted or own_votes (as Mastodon's stream).
func TestStreamedPollHasNoViewerVotes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	status := f.postStatus(t, f.aliceTok, "STATUS_POLL", pollForm("q", []string{"a", "b"}))
	pollID, _ := lookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+status), "poll", "id")
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/polls/"+fmt.Sprint(pollID)+"/votes", url.Values{"choices[]": {"1"}})
	out, _, err := f.api.Entities().Statuses(t.Context(), mustID(t, status), []int64{f.alice.ID, f.bob.ID})
	if err != nil {
		t.Fatal(err)
	}
	for v, enc := range out {
		dec := json.NewDecoder(bytes.NewReader(enc))
		dec.UseNumber()
		var s map[string]any
		if err := dec.Decode(&s); err != nil {
			t.Fatal(err)
		}
		p, _ := lookup(s, "poll")
		checkPoll(t, "streamed poll", p, "")
		if c := fmt.Sprint(optionCounts(p)); c != "[0 1]" {
			t.Errorf("streamed to %d: tallies %s", v, c)
		}
	}
}

// PUT /api/v1/statuses/:id sends the poll again, as Mastodon's clients do:
// the same options keep the votes, other options reset them, no poll
// removes it.
func TestEditStatusPollOverTheAPI(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	status := f.postStatus(t, f.aliceTok, "STATUS_POLL", pollForm("q", []string{"a", "b"}))
	pollID, _ := lookup(f.get(t, f.aliceTok, "/api/v1/statuses/"+status), "poll", "id")
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/polls/"+fmt.Sprint(pollID)+"/votes", url.Values{"choices[]": {"1"}})
	put := func(form url.Values) any {
		t.Helper()
		f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/statuses/"+status, form)
		p, _ := lookup(f.get(t, f.bobTok, "/api/v1/statuses/"+status), "poll")
		return p
	}
	p := put(pollForm("q, edited", []string{"a", "b"}, "poll[expires_in]", "7200"))
	if id, _ := lookup(p, "id"); id != pollID || fmt.Sprint(optionCounts(p)) != "[0 1]" || mustLookup(p, "voted") != true {
		t.Errorf("same options: %v", p)
	}
	p = put(pollForm("q, edited again", []string{"a", "b", "c"}))
	if id, _ := lookup(p, "id"); id == pollID || fmt.Sprint(optionCounts(p)) != "[0 0 0]" || mustLookup(p, "voted") != false {
		t.Errorf("new options: %v", p)
	}
	if p := put(url.Values{"status": {"no poll now"}}); p != nil {
		t.Errorf("an edit without a poll: %v", p)
	}
}
