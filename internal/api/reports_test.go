package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-social/rampart/internal/accounts"
	"github.com/rampart-social/rampart/internal/store"
)

// reportDates replaces the dates norm leaves alone with <DATE>.
func reportDates(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if s, ok := y.(string); ok && (k == "updated_at" || k == "action_taken_at") && s != "" {
				x[k] = "<DATE>"
			} else {
				x[k] = reportDates(y)
			}
		}
	case []any:
		for i := range x {
			x[i] = reportDates(x[i])
		}
	}
	return v
}

// newReportFixture is the social pair plus dave, a plain user whose posts
// get reported, and an admin token for alice.
type reportFixture struct {
	*socialFixture
	dave     *store.Account
	daveTok  string
	adminTok string
}

func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	f := &reportFixture{socialFixture: newSocialPair(t)}
	var err error
	f.dave, _, err = f.acc.Create(t.Context(), accounts.NewParams{Username: "dave", Email: "dave@example.test",
		Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	f.name(idString(f.dave.ID), "DAVE_ID")
	f.name(idString(f.carol.ID), "CAROL_ID")
	f.daveTok = f.userToken(t, f.dave, "read write follow")
	f.adminTok = f.userToken(t, f.alice, "read write admin:read admin:write")
	return f
}

func (f *reportFixture) report(t *testing.T, tok string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	return f.call(t, tok, http.MethodPost, "/api/v1/reports", form)
}

func TestReportEntityAndRules(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	daveID := idString(f.dave.ID)
	public := f.postStatus(t, f.daveTok, "STATUS_DAVE", url.Values{"status": {"buy now"}, "visibility": {"public"}})
	private := f.postStatus(t, f.daveTok, "STATUS_DAVE_PRIVATE", url.Values{"status": {"for my followers"}, "visibility": {"private"}})
	bobs := f.postStatus(t, f.bobTok, "STATUS_BOB", url.Values{"status": {"hi"}, "visibility": {"public"}})

	rec := f.report(t, f.bobTok, url.Values{"account_id": {daveID}, "status_ids[]": {public}, "comment": {"spam <b>"},
		"forward": {"true"}, "category": {"spam"}})
	v := decodeAny(t, rec, http.StatusOK)
	checkSocialContract(t, "report", v)
	f.golden(t, "report", reportDates(v))

	for name, c := range map[string]struct {
		tok  string
		form url.Values
		code int
	}{
		"yourself":              {f.bobTok, url.Values{"account_id": {f.bobID}}, http.StatusUnprocessableEntity},
		"unseen status":         {f.bobTok, url.Values{"account_id": {daveID}, "status_ids[]": {private}}, http.StatusNotFound},
		"someone else's":        {f.bobTok, url.Values{"account_id": {daveID}, "status_ids[]": {bobs}}, http.StatusNotFound},
		"no such status":        {f.bobTok, url.Values{"account_id": {daveID}, "status_ids[]": {"12345"}}, http.StatusNotFound},
		"no such account":       {f.bobTok, url.Values{"account_id": {"12345"}}, http.StatusNotFound},
		"pending account":       {f.bobTok, url.Values{"account_id": {idString(f.carol.ID)}}, http.StatusNotFound},
		"long comment":          {f.bobTok, url.Values{"account_id": {daveID}, "comment": {strings.Repeat("é", 1001)}}, http.StatusUnprocessableEntity},
		"bad category":          {f.bobTok, url.Values{"account_id": {daveID}, "category": {"rude"}}, http.StatusUnprocessableEntity},
		"violation, no rules":   {f.bobTok, url.Values{"account_id": {daveID}, "category": {"violation"}}, http.StatusUnprocessableEntity},
		"unknown rule":          {f.bobTok, url.Values{"account_id": {daveID}, "category": {"violation"}, "rule_ids[]": {"1"}}, http.StatusUnprocessableEntity},
		"without write:reports": {f.userToken(t, f.bob, "read write:statuses"), url.Values{"account_id": {daveID}}, http.StatusForbidden},
	} {
		t.Run(name, func(t *testing.T) {
			if rec := f.report(t, c.tok, c.form); rec.Code != c.code {
				t.Errorf("%d %s, want %d", rec.Code, rec.Body, c.code)
			}
		})
	}
	rec = f.report(t, f.bobTok, url.Values{"account_id": {daveID}, "category": {"violation"}, "rule_ids[]": {"1"}})
	if v := wantJSON(t, rec, http.StatusUnprocessableEntity); v["error"] != "Validation failed: Rule ids does not reference valid rules" {
		t.Errorf("Mastodon's message for rules: %v", v["error"])
	}
	// A comment of exactly 1000 characters, default category other.
	rec = f.report(t, f.bobTok, url.Values{"account_id": {daveID}, "comment": {strings.Repeat("é", 1000)}})
	if v := wantJSON(t, rec, http.StatusOK); v["category"] != "other" || v["forwarded"] != false {
		t.Errorf("default report: %v", v)
	}
	// Once bob follows dave (unlocked), the private status may be reported.
	f.okJSON(t, f.bobTok, http.MethodPost, "/api/v1/accounts/"+daveID+"/follow", nil)
	if rec := f.report(t, f.bobTok, url.Values{"account_id": {daveID}, "status_ids[]": {private}}); rec.Code != http.StatusOK {
		t.Errorf("a private status the reporter sees: %d %s", rec.Code, rec.Body)
	}
	// A block hides dave's statuses from bob: he cannot report them.
	f.okJSON(t, f.daveTok, http.MethodPost, "/api/v1/accounts/"+f.bobID+"/block", nil)
	if rec := f.report(t, f.bobTok, url.Values{"account_id": {daveID}, "status_ids[]": {public}}); rec.Code != http.StatusNotFound {
		t.Errorf("a blocked author's status: %d %s", rec.Code, rec.Body)
	}
}

func TestAdminAPIScopesAndRole(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	bobAdminScoped := f.userToken(t, f.bob, "admin:read admin:write")
	aliceNoAdmin := f.userToken(t, f.alice, "read write")
	aliceReadOnly := f.userToken(t, f.alice, "admin:read")
	for _, c := range []struct {
		tok, method, path string
		code              int
		msg               string
	}{
		{bobAdminScoped, http.MethodGet, "/api/v1/admin/reports", http.StatusForbidden, "This action is not allowed"},
		{bobAdminScoped, http.MethodGet, "/api/v1/admin/accounts", http.StatusForbidden, "This action is not allowed"},
		{bobAdminScoped, http.MethodPost, "/api/v1/admin/accounts/" + idString(f.carol.ID) + "/approve", http.StatusForbidden, "This action is not allowed"},
		{aliceNoAdmin, http.MethodGet, "/api/v1/admin/reports", http.StatusForbidden, "This action is outside the authorized scopes"},
		{aliceNoAdmin, http.MethodGet, "/api/v2/admin/accounts", http.StatusForbidden, "This action is outside the authorized scopes"},
		{aliceReadOnly, http.MethodPost, "/api/v1/admin/accounts/" + idString(f.carol.ID) + "/approve", http.StatusForbidden, "This action is outside the authorized scopes"},
		{aliceReadOnly, http.MethodGet, "/api/v1/admin/accounts/" + idString(f.carol.ID), http.StatusOK, ""},
		{f.userToken(t, f.alice, "admin:read:reports"), http.MethodGet, "/api/v1/admin/accounts", http.StatusForbidden, "This action is outside the authorized scopes"},
		{f.userToken(t, f.alice, "admin:read:reports"), http.MethodGet, "/api/v1/admin/reports", http.StatusOK, ""},
		{"", http.MethodGet, "/api/v1/admin/reports", http.StatusUnauthorized, "The access token is invalid"},
	} {
		rec := f.call(t, c.tok, c.method, c.path, nil)
		if rec.Code != c.code || c.msg != "" && !strings.Contains(rec.Body.String(), `"error":"`+c.msg+`"`) {
			t.Errorf("%s %s: %d %s, want %d %q", c.method, c.path, rec.Code, rec.Body, c.code, c.msg)
		}
	}
	// A moderator is staff too.
	if _, err := f.acc.Modify(t.Context(), f.bob.ID, accounts.Change{Role: ptr(accounts.RoleModerator)}); err != nil {
		t.Fatal(err)
	}
	if rec := f.call(t, bobAdminScoped, http.MethodGet, "/api/v1/admin/reports", nil); rec.Code != http.StatusOK {
		t.Errorf("a moderator: %d %s", rec.Code, rec.Body)
	}
}

// The admin flow: a report, listed, assigned, acted on with the report
// named (disable): the report is resolved and the account's token is dead.
func TestAdminReportFlow(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	daveID := idString(f.dave.ID)
	st := f.postStatus(t, f.daveTok, "STATUS_DAVE", url.Values{"status": {"buy now #deals"}, "visibility": {"public"}})
	rep := decodeAny(t, f.report(t, f.bobTok, url.Values{"account_id": {daveID}, "status_ids[]": {st}, "comment": {"spam"}, "category": {"spam"}}), http.StatusOK)
	repID := rep.(map[string]any)["id"].(string)
	f.name(repID, "REPORT_ID")

	list := asList(t, f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/reports?resolved=false", nil))
	if len(list) != 1 {
		t.Fatalf("open reports: %v", list)
	}
	checkSocialContract(t, "admin report", list[0])
	f.golden(t, "admin_report", reportDates(list[0]))

	v := f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/reports/"+repID+"/assign_to_self", nil)
	if x, _ := lookup(v, "assigned_account", "id"); x != f.aliceID {
		t.Errorf("assigned to %v", x)
	}
	v = f.okJSON(t, f.adminTok, http.MethodPut, "/api/v1/admin/reports/"+repID, url.Values{"category": {"legal"}})
	if x, _ := lookup(v, "category"); x != "legal" {
		t.Errorf("category %v", x)
	}
	if rec := f.call(t, f.adminTok, http.MethodPut, "/api/v1/admin/reports/"+repID, url.Values{"category": {"violation"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("violation without rules: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/action", url.Values{"type": {"bogus"}, "report_id": {repID}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("an unknown action: %d %s", rec.Code, rec.Body)
	}
	if got := f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/reports/"+repID, nil); fmt.Sprint(mustLookup(got, "action_taken")) != "false" {
		t.Fatalf("a refused action resolved the report: %v", got)
	}
	f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/action", url.Values{"type": {"disable"}, "report_id": {repID}, "text": {"no spam"}})
	v = f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/reports/"+repID, nil)
	if x, _ := lookup(v, "action_taken"); x != true {
		t.Errorf("report not resolved: %v", v)
	}
	if x, _ := lookup(v, "action_taken_by_account", "id"); x != f.aliceID {
		t.Errorf("resolved by %v", x)
	}
	if x, _ := lookup(v, "target_account", "disabled"); x != true {
		t.Errorf("target not disabled: %v", v)
	}
	if rec := f.call(t, f.daveTok, http.MethodGet, "/api/v1/accounts/verify_credentials", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("the disabled account's token: %d %s", rec.Code, rec.Body)
	}
	if list := asList(t, f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/reports", nil)); len(list) != 0 {
		t.Errorf("open reports after resolving: %d", len(list))
	}
	if list := asList(t, f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/reports?resolved=true&target_account_id="+daveID, nil)); len(list) != 1 {
		t.Errorf("resolved reports on dave: %d", len(list))
	}
	v = f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/reports/"+repID+"/reopen", nil)
	if x, _ := lookup(v, "action_taken"); x != false {
		t.Errorf("reopened: %v", v)
	}
	f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/reports/"+repID+"/unassign", nil)
	v = f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/reports/"+repID+"/resolve", nil)
	if x, _ := lookup(v, "action_taken"); x != true {
		t.Errorf("resolved: %v", v)
	}
	if x, _ := lookup(v, "assigned_account"); x != nil {
		t.Errorf("unassigned: %v", x)
	}
	v = f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/enable", nil)
	if x, _ := lookup(v, "disabled"); x != false {
		t.Errorf("enabled: %v", v)
	}
	if rec := f.call(t, f.adminTok, http.MethodGet, "/api/v1/admin/reports/12345", nil); rec.Code != http.StatusNotFound {
		t.Errorf("no such report: %d", rec.Code)
	}
}

func TestAdminReportsPaging(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	for range 3 {
		decodeAny(t, f.report(t, f.bobTok, url.Values{"account_id": {idString(f.dave.ID)}}), http.StatusOK)
	}
	rec := f.call(t, f.adminTok, http.MethodGet, "/api/v1/admin/reports?limit=2", nil)
	first := asList(t, decodeAny(t, rec, http.StatusOK))
	link := rec.Header().Get("Link")
	if len(first) != 2 || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="prev"`) {
		t.Fatalf("first page: %d items, Link %q", len(first), link)
	}
	next := link[strings.Index(link, "<")+1 : strings.Index(link, ">")]
	u, _ := url.Parse(next)
	rec = f.call(t, f.adminTok, http.MethodGet, u.RequestURI(), nil)
	second := asList(t, decodeAny(t, rec, http.StatusOK))
	if len(second) != 1 || strings.Contains(rec.Header().Get("Link"), `rel="next"`) {
		t.Fatalf("second page: %d items, Link %q", len(second), rec.Header().Get("Link"))
	}
	if mustLookup(second[0], "id") == mustLookup(first[1], "id") {
		t.Errorf("the pages overlap")
	}
	rec = f.call(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts?limit=2&local=true", nil)
	if accs := asList(t, decodeAny(t, rec, http.StatusOK)); len(accs) != 2 || !strings.Contains(rec.Header().Get("Link"), `rel="next"`) {
		t.Errorf("accounts page: %d, Link %q", len(accs), rec.Header().Get("Link"))
	}
}

func TestAdminAccounts(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	carolID := idString(f.carol.ID)
	v := f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts/"+carolID, nil)
	checkSocialContract(t, "admin account", v)
	f.golden(t, "admin_account_pending", v)

	ids := func(path string) []string {
		var out []string
		for _, x := range asList(t, f.okJSON(t, f.adminTok, http.MethodGet, path, nil)) {
			out = append(out, fmt.Sprint(mustLookup(x, "username")))
		}
		return out
	}
	for path, want := range map[string]string{
		"/api/v1/admin/accounts?pending=true":           "[carol]",
		"/api/v2/admin/accounts?status=pending":         "[carol]",
		"/api/v1/admin/accounts?staff=true":             "[alice]",
		"/api/v2/admin/accounts?permissions=staff":      "[alice]",
		"/api/v2/admin/accounts?origin=local":           "[dave carol bob alice]",
		"/api/v2/admin/accounts?origin=remote":          "[]",
		"/api/v1/admin/accounts?username=DA":            "[dave]",
		"/api/v1/admin/accounts?email=bob%40":           "[bob]",
		"/api/v1/admin/accounts?display_name=admin":     "[alice]",
		"/api/v1/admin/accounts?username=%25":           "[]",
		"/api/v2/admin/accounts?status=suspended":       "[]",
		"/api/v1/admin/accounts?active=true&local=true": "[dave bob alice]",
	} {
		if got := fmt.Sprint(ids(path)); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}

	v = f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+carolID+"/approve", nil)
	if x, _ := lookup(v, "approved"); x != true {
		t.Errorf("approve: %v", v)
	}
	if rec := f.call(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+carolID+"/approve", nil); rec.Code != http.StatusForbidden {
		t.Errorf("approving twice: %d", rec.Code)
	}
	if rec := f.call(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+f.aliceID+"/action", url.Values{"type": {"disable"}}); rec.Code != http.StatusForbidden {
		t.Errorf("disabling yourself: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, f.adminTok, http.MethodDelete, "/api/v1/admin/accounts/"+idString(f.dave.ID), nil); rec.Code != http.StatusForbidden {
		t.Errorf("deleting an account not suspended: %d %s", rec.Code, rec.Body)
	}
	for _, undo := range []string{"unsilence", "unsuspend", "unsensitive"} {
		f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+idString(f.dave.ID)+"/"+undo, nil)
	}

	// A new pending sign-up, rejected: gone.
	erin, _, err := f.acc.Create(t.Context(), accounts.NewParams{Username: "erin", Email: "erin@example.test",
		Password: fixturePassword, Role: accounts.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+idString(erin.ID)+"/reject", nil)
	if rec := f.call(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts/"+idString(erin.ID), nil); rec.Code != http.StatusNotFound {
		t.Errorf("a rejected account: %d %s", rec.Code, rec.Body)
	}
}

// The admin lists render in a fixed number of statements, and write nothing.
func TestAdminListsRunAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	bobTok := f.bobTok
	stmts := map[string][]int64{}
	paths := []string{"/api/v1/admin/reports", "/api/v1/admin/accounts?local=true"}
	made := 0
	for _, n := range []int{3, 30} {
		for ; made < n; made++ {
			u, _, err := f.acc.Create(t.Context(), accounts.NewParams{Username: fmt.Sprintf("spam%d", made), Email: fmt.Sprintf("spam%d@example.test", made),
				Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
			if err != nil {
				t.Fatal(err)
			}
			tok := f.userToken(t, u, "read write")
			st := f.postStatus(t, tok, fmt.Sprintf("S%d", made), url.Values{"status": {"buy @bob #deals"}, "visibility": {"public"}})
			rep := decodeAny(t, f.report(t, bobTok, url.Values{"account_id": {idString(u.ID)}, "status_ids[]": {st}}), http.StatusOK)
			id := mustLookup(rep, "id").(string)
			if made%2 == 0 {
				f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/reports/"+id+"/assign_to_self", nil)
			}
		}
		for _, path := range paths {
			s, _ := f.statements(t, f.adminTok, path)
			stmts[path] = append(stmts[path], s)
		}
	}
	for _, path := range paths {
		if c := stmts[path]; c[0] != c[1] || c[1] > maxPageStatements {
			t.Errorf("GET %s: %d statements for few items, %d for many; want the same, at most %d", path, c[0], c[1], maxPageStatements)
		} else {
			t.Logf("GET %s: %d statements", path, c[0])
		}
	}
}

// Every moderator and admin but the reporter gets an admin.report
// notification naming the report (Mastodon 4.x); nobody else does.
func TestAdminReportNotification(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	daveID := idString(f.dave.ID)
	rep := decodeAny(t, f.report(t, f.bobTok, url.Values{"account_id": {daveID}, "comment": {"spam"}, "category": {"spam"}}), http.StatusOK)
	f.name(mustLookup(rep, "id").(string), "REPORT_ID")
	list := asList(t, f.okJSON(t, f.aliceTok, http.MethodGet, "/api/v1/notifications?types[]=admin.report", nil))
	if len(list) != 1 {
		t.Fatalf("alice's admin.report notifications: %v", list)
	}
	checkSocialContract(t, "admin.report notification", list[0])
	f.golden(t, "notification_admin_report", reportDates(list[0]))
	id := mustLookup(list[0], "id").(string)
	if one := f.okJSON(t, f.aliceTok, http.MethodGet, "/api/v1/notifications/"+id, nil); f.diff(one, list[0]) != "" {
		t.Errorf("one notification differs from the list's: %s", f.diff(one, list[0]))
	}
	for _, tok := range []string{f.bobTok, f.daveTok} {
		if got := asList(t, f.okJSON(t, tok, http.MethodGet, "/api/v1/notifications", nil)); len(got) != 0 {
			t.Errorf("a user who is not staff was told: %v", got)
		}
	}
	// A report by the only admin tells nobody.
	decodeAny(t, f.report(t, f.aliceTok, url.Values{"account_id": {daveID}}), http.StatusOK)
	if got := asList(t, f.okJSON(t, f.aliceTok, http.MethodGet, "/api/v1/notifications?types[]=admin.report", nil)); len(got) != 1 {
		t.Errorf("alice was told of her own report: %d", len(got))
	}
}

// Silencing a local account (Mastodon's limit) keeps its posts out of the
// public timelines; unsilence brings them back.
func TestAdminSilenceLocalAccount(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	daveID := idString(f.dave.ID)
	st := f.postStatus(t, f.daveTok, "STATUS_DAVE", url.Values{"status": {"loud #deals"}, "visibility": {"public"}})
	inPublic := func(path string) bool {
		t.Helper()
		for _, s := range asList(t, f.okJSON(t, f.bobTok, http.MethodGet, path, nil)) {
			if mustLookup(s, "id") == st {
				return true
			}
		}
		return false
	}
	paths := []string{"/api/v1/timelines/public", "/api/v1/timelines/public?local=true", "/api/v1/timelines/tag/deals"}
	for _, p := range paths {
		if !inPublic(p) {
			t.Fatalf("%s: the status is not there to begin with", p)
		}
	}
	f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/action", url.Values{"type": {"silence"}})
	if v := f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts/"+daveID, nil); mustLookup(v, "silenced") != true {
		t.Errorf("not silenced: %v", v)
	}
	for _, p := range paths {
		if inPublic(p) {
			t.Errorf("%s: a silenced account's status is there", p)
		}
	}
	if got := asList(t, f.okJSON(t, f.adminTok, http.MethodGet, "/api/v2/admin/accounts?status=silenced", nil)); len(got) != 1 {
		t.Errorf("silenced accounts: %d", len(got))
	}
	// It stays reachable by its own URL.
	if rec := f.call(t, f.bobTok, http.MethodGet, "/api/v1/statuses/"+st, nil); rec.Code != http.StatusOK {
		t.Errorf("the status itself: %d", rec.Code)
	}
	v := f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/unsilence", nil)
	if mustLookup(v, "silenced") != false {
		t.Errorf("unsilenced: %v", v)
	}
	for _, p := range paths {
		if !inPublic(p) {
			t.Errorf("%s: the status is not back", p)
		}
	}
}
