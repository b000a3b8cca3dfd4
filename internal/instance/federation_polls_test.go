package instance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// postJSON sends form to path on p as token's owner and decodes the answer.
func postJSON(t *testing.T, p *peer, token, path string, form url.Values, out any) int {
	t.Helper()
	req, _ := http.NewRequest("POST", p.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

// pollEntity is what the tests read of a Poll entity.
type pollEntity struct {
	ID          string
	ExpiresAt   *string `json:"expires_at"`
	Expired     bool
	Multiple    bool
	VotesCount  int  `json:"votes_count"`
	VotersCount *int `json:"voters_count"`
	Voted       *bool
	OwnVotes    []int `json:"own_votes"`
	Options     []struct {
		Title      string
		VotesCount *int `json:"votes_count"`
	}
}

// Polls between two instances, as between Mastodon servers: alice's poll
// on A is a Question that B stores as a status with its poll; bob votes
// in it on B, which shows his vote and sends it to A as a Note per
// choice; A counts it as bob's vote, once (a second vote, signed and
// delivered, is not counted), and stores no status for it.
func TestPollsBetweenTwoInstances(t *testing.T) {
	lnA, portA := listen(t)
	lnB, portB := listen(t)
	b := startPeer(t, lnB, "localhost", "127.0.0.1", "[federation]", `test_hosts = ["127.0.0.1:`+portA+`"]`)
	a := startPeer(t, lnA, "127.0.0.1", "localhost", "[federation]", `test_hosts = ["localhost:`+portB+`"]`)
	ctx := t.Context()
	aliceTok, bobTok := tokenFor(t, a, "alice"), tokenFor(t, b, "bob")
	logs := func() string { return "A's log:\n" + a.logs.String() + "\nB's log:\n" + b.logs.String() }

	pollID, pollURI := post(t, a, aliceTok, url.Values{"status": {"Tea or coffee?"}, "visibility": {"public"},
		"poll[options][]": {"Tea", "Coffee"}, "poll[expires_in]": {"3600"}})
	var found struct {
		Statuses []struct {
			ID, URI      string
			RepliesCount int `json:"replies_count"`
			Poll         *pollEntity
		}
	}
	getJSON(t, b, bobTok, "/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(pollURI), &found)
	if len(found.Statuses) != 1 || found.Statuses[0].Poll == nil {
		t.Fatalf("alice's poll on B: %+v\n%s", found, logs())
	}
	onB := found.Statuses[0].Poll
	if onB.Multiple || onB.Expired || onB.ExpiresAt == nil || len(onB.Options) != 2 || onB.Options[0].Title != "Tea" ||
		onB.Options[1].Title != "Coffee" || onB.Voted == nil || *onB.Voted || onB.VotesCount != 0 {
		t.Errorf("the remote poll on B: %+v", onB)
	}

	var voted pollEntity
	if status := postJSON(t, b, bobTok, "/api/v1/polls/"+onB.ID+"/votes", url.Values{"choices[]": {"1"}}, &voted); status != 200 {
		t.Fatalf("bob votes on B: %d\n%s", status, logs())
	}
	if voted.Voted == nil || !*voted.Voted || !slices.Equal(voted.OwnVotes, []int{1}) || *voted.Options[1].VotesCount != 1 {
		t.Errorf("bob's vote on B: %+v", voted)
	}

	alicePoll := func() pollEntity {
		var st struct{ Poll *pollEntity }
		getJSON(t, a, aliceTok, "/api/v1/statuses/"+pollID, &st)
		if st.Poll == nil {
			t.Fatalf("alice's status has no poll")
		}
		return *st.Poll
	}
	waitFor(t, "bob's vote on A", func() bool { return alicePoll().VotesCount == 1 })
	got := alicePoll()
	if *got.VotersCount != 1 || *got.Options[1].VotesCount != 1 || *got.Options[0].VotesCount != 0 {
		t.Errorf("alice's poll after bob's vote: %+v\n%s", got, logs())
	}

	// Bob's server sends another vote in the single-choice poll, signed
	// as bob: it counts for nothing.
	bs := b.inst.Store()
	bobAcc, err := bs.AccountByURI(ctx, "http://localhost:"+portB+"/users/bob")
	if err != nil {
		t.Fatal(err)
	}
	q, err := bs.StatusByURI(ctx, pollURI)
	if err != nil {
		t.Fatal(err)
	}
	inboxes, err := bs.AccountInboxes(ctx, []int64{q.AccountID})
	if err != nil || len(inboxes) != 1 {
		t.Fatalf("alice's inbox on B: %v %v", inboxes, err)
	}
	for i, choice := range []string{"Tea", "Coffee"} {
		id := bobAcc.URI + "#votes/again/" + string(rune('0'+i))
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id + "/activity", "type": "Create",
			"actor": bobAcc.URI, "to": []string{"http://127.0.0.1:" + portA + "/users/alice"},
			"object": map[string]any{"id": id, "type": "Note", "name": choice, "attributedTo": bobAcc.URI, "inReplyTo": pollURI,
				"to": []string{"http://127.0.0.1:" + portA + "/users/alice"}}})
		if _, err := bs.EnqueueDeliveries(ctx, bobAcc.ID, body, inboxes); err != nil {
			t.Fatal(err)
		}
	}
	// Each poll's end job waits for its end: idle is nothing due now.
	idle := func(p *peer) bool {
		due, err := p.inst.Store().JobsDue(ctx, time.Now())
		st, err2 := p.inst.Store().JobStats(ctx)
		return err == nil && err2 == nil && !due && st.Running == 0
	}
	waitFor(t, "B to deliver the second votes", func() bool { return idle(b) })
	waitFor(t, "A to process them", func() bool { return idle(a) })
	if got := alicePoll(); got.VotesCount != 1 || *got.VotersCount != 1 || *got.Options[0].VotesCount != 0 {
		t.Errorf("alice's poll after a second vote: %+v\n%s", got, logs())
	}
	// No vote is a status: alice's poll has no replies, and no status of
	// bob's is stored on A.
	var st struct {
		RepliesCount int `json:"replies_count"`
	}
	getJSON(t, a, aliceTok, "/api/v1/statuses/"+pollID, &st)
	if st.RepliesCount != 0 {
		t.Errorf("the votes were stored as replies: %d", st.RepliesCount)
	}
	bobOnA, err := a.inst.Store().AccountByURI(ctx, bobAcc.URI)
	if err != nil {
		t.Fatal(err)
	}
	if _, stats, err := a.inst.Store().AccountsWithStats(ctx, []int64{bobOnA.ID}); err != nil || stats[bobOnA.ID].Statuses != 0 {
		t.Errorf("bob's statuses on A: %+v %v", stats[bobOnA.ID], err)
	}
}
