package api

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/social"
	"github.com/rampart-social/rampart/internal/store"
)

// Review: a conversation's accounts are held to the rule every other
// account list keeps (ListAccounts, Endorsements, GET /api/v1/accounts?id[]):
// a disabled or deleted participant is not shown, as GET /api/v1/accounts/:id
// answers 404 for it.
func TestReviewConversationHidesDisabledParticipants(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dave, _ := f.newUser(t, "dave")
	erin, _ := f.newUser(t, "erin")
	f.postStatus(t, f.aliceTok, "STATUS_DM", url.Values{"status": {"@bob @dave @erin just between us"}, "visibility": {"direct"}})
	if _, err := f.acc.Modify(t.Context(), dave.ID, accounts.Change{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := f.acc.Delete(t.Context(), erin.ID); err != nil {
		t.Fatal(err)
	}
	if rec := f.call(t, f.aliceTok, "GET", "/api/v1/accounts/"+idString(dave.ID), nil); rec.Code != 404 {
		t.Fatalf("the disabled account itself: %d, want 404", rec.Code)
	}
	l := asList(t, f.get(t, f.aliceTok, "/api/v1/conversations"))
	if len(l) != 1 {
		t.Fatalf("alice's conversations: %v", l)
	}
	for _, a := range asList(t, mustLookup(l[0], "accounts")) {
		if id := mustLookup(a, "id"); id == idString(dave.ID) || id == idString(erin.ID) {
			t.Errorf("a disabled or deleted participant is shown: %v (%v)", id, mustLookup(a, "username"))
		}
	}
}

// Review: the directory leaves out the accounts of the domains the viewer
// blocks (Mastodon's account_domain_block_scope), as timelines, search and
// notifications already do here.
func TestReviewDirectoryHidesTheViewersBlockedDomains(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	domain := "evil.example"
	id, err := f.st.UpsertRemoteAccount(t.Context(), &store.RemoteAccount{Account: store.Account{Username: "spammer", Domain: domain,
		URI: "https://" + domain + "/users/spammer", URL: "https://" + domain + "/@spammer", Discoverable: true, CreatedAt: time.Now()},
		InboxURL: "https://" + domain + "/users/spammer/inbox", FetchedAt: time.Now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	acc := &store.Account{ID: id}
	has := func(tok string) bool {
		for _, a := range asList(t, f.get(t, tok, "/api/v1/directory?order=new")) {
			if mustLookup(a, "id") == idString(acc.ID) {
				return true
			}
		}
		return false
	}
	if !has(f.aliceTok) {
		t.Fatal("the remote account is not in the directory to begin with")
	}
	f.okJSON(t, f.aliceTok, "POST", "/api/v1/domain_blocks", url.Values{"domain": {"evil.example"}})
	if has(f.aliceTok) {
		t.Error("the directory shows alice an account of a domain she blocks")
	}
}

// Review: limits.api_requests_anonymous cannot be dodged by sending a new
// made-up bearer value with each request: a value that is no token is no
// token's allowance. The routes that need no token (the instance, custom
// emojis, trends, the instance's domain blocks…) answer whatever it says,
// so each request would be served under a fresh allowance of its own.
func TestReviewMadeUpBearersDoNotDodgeTheAnonymousLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, `[limits]`, `api_requests = 300`, `api_requests_anonymous = 2`)
	served := 0
	for i := range 10 {
		rec := e.do(t, "GET", "/api/v1/custom_emojis", nil, bearerHeader(fmt.Sprintf("made-up-%d", i))...)
		if rec.Code == 200 {
			served++
		}
	}
	if served > 2 {
		t.Errorf("one address without a token was served %d requests, past its limit of 2, by naming a new made-up token each time", served)
	}
}

// Review: deleting an account takes what it did through issue 15's
// endpoints with it, as it takes its favourites and relations: its
// reaction no longer counts on an announcement everyone sees, and its
// private filters (their keywords) and markers are not kept.
func TestReviewDeletedAccountLeavesNoReactionsFiltersOrMarkers(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	dave, daveTok := f.newUser(t, "dave")
	id := f.newAnnouncement(t, "ANN", social.NewAnnouncement{Text: "hello"})
	f.okJSON(t, daveTok, "PUT", "/api/v1/announcements/"+id+"/reactions/"+url.PathEscape("👍"), nil)
	f.okJSON(t, daveTok, "POST", "/api/v2/filters", url.Values{"title": {"secret"}, "context[]": {"home"},
		"keywords_attributes[][keyword]": {"my ex's name"}})
	f.okJSON(t, daveTok, "POST", "/api/v1/markers", url.Values{"home[last_read_id]": {"12345"}})
	if err := f.acc.Delete(t.Context(), dave.ID); err != nil {
		t.Fatal(err)
	}
	anns := asList(t, f.get(t, f.aliceTok, "/api/v1/announcements"))
	if len(anns) != 1 {
		t.Fatalf("announcements: %v", anns)
	}
	if r := asList(t, mustLookup(anns[0], "reactions")); len(r) != 0 {
		t.Errorf("a deleted account's reaction still counts: %v", r)
	}
	if l, err := f.st.Filters(t.Context(), dave.ID); err != nil || len(l) != 0 {
		t.Errorf("a deleted account's filters are kept: %d (%v)", len(l), err)
	}
	if m, err := f.st.Markers(t.Context(), dave.ID, []string{"home", "notifications"}); err != nil || len(m) != 0 {
		t.Errorf("a deleted account's markers are kept: %v (%v)", m, err)
	}
}
