package api

import (
	"net/http"
	"net/url"
	"testing"
)

// The staff's sensitive action shows all of an account's statuses as
// sensitive to others (not to the author) until unsensitive.
func TestAdminSensitive(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	daveID := idString(f.dave.ID)
	st := f.postStatus(t, f.daveTok, "STATUS_DAVE", url.Values{"status": {"a picture, say"}, "visibility": {"public"}})
	sensitive := func(tok string) any {
		t.Helper()
		return mustLookup(f.okJSON(t, tok, http.MethodGet, "/api/v1/statuses/"+st, nil), "sensitive")
	}
	if sensitive(f.bobTok) != false {
		t.Fatal("sensitive to begin with")
	}
	f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/action", url.Values{"type": {"sensitive"}})
	if v := f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts/"+daveID, nil); mustLookup(v, "sensitized") != true {
		t.Errorf("not sensitized: %v", v)
	}
	if sensitive(f.bobTok) != true || sensitive("") != true {
		t.Error("a sensitized account's status is not sensitive to others")
	}
	if sensitive(f.daveTok) != false {
		t.Error("the author sees their status marked")
	}
	v := f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/unsensitive", nil)
	if mustLookup(v, "sensitized") != false || sensitive(f.bobTok) != false {
		t.Errorf("unsensitive: %v", v)
	}
}

// Suspending an account hides it and its statuses from everyone (404) and
// ends its token at once; unsuspending restores what it had; a suspended
// local account may then be deleted (200), an unsuspended one not (403).
func TestAdminSuspend(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	daveID := idString(f.dave.ID)
	st := f.postStatus(t, f.daveTok, "STATUS_DAVE", url.Values{"status": {"hello #suspendable"}, "visibility": {"public"}})
	reach := []string{"/api/v1/accounts/" + daveID, "/api/v1/accounts/lookup?acct=dave", "/api/v1/statuses/" + st,
		"/api/v1/statuses/" + st + "/context", "/api/v1/accounts/" + daveID + "/statuses"}
	inTimelines := func(tok string) bool {
		t.Helper()
		for _, p := range []string{"/api/v1/timelines/public", "/api/v1/timelines/tag/suspendable"} {
			for _, s := range asList(t, f.okJSON(t, tok, http.MethodGet, p, nil)) {
				if mustLookup(s, "id") == st {
					return true
				}
			}
		}
		return false
	}
	for _, p := range reach {
		f.wantStatus(t, f.bobTok, http.MethodGet, p, nil, http.StatusOK)
	}
	if !inTimelines(f.bobTok) {
		t.Fatal("the status is not in the timelines to begin with")
	}

	f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/action", url.Values{"type": {"suspend"}, "text": {"spam"}})
	v := f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts/"+daveID, nil)
	if mustLookup(v, "suspended") != true {
		t.Fatalf("not suspended: %v", v)
	}
	f.name(daveID, "DAVE_ID")
	f.golden(t, "admin_account_suspended", v)
	for _, tok := range []string{f.bobTok, ""} {
		for _, p := range reach {
			f.wantStatus(t, tok, http.MethodGet, p, nil, http.StatusNotFound)
		}
		if inTimelines(tok) {
			t.Errorf("a suspended account's status in a timeline (token %q)", tok)
		}
	}
	f.wantStatus(t, f.daveTok, http.MethodGet, "/api/v1/accounts/verify_credentials", nil, http.StatusUnauthorized)
	if got := asList(t, f.okJSON(t, f.adminTok, http.MethodGet, "/api/v2/admin/accounts?status=suspended", nil)); len(got) != 1 || mustLookup(got[0], "id") != daveID {
		t.Errorf("suspended accounts: %v", got)
	}
	// The staff still reach it.
	if v := f.okJSON(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts?username=dave", nil); len(asList(t, v)) != 1 {
		t.Errorf("the staff's list lost it: %v", v)
	}

	v = f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/unsuspend", nil)
	if mustLookup(v, "suspended") != false {
		t.Errorf("unsuspend: %v", v)
	}
	for _, p := range reach {
		f.wantStatus(t, f.bobTok, http.MethodGet, p, nil, http.StatusOK)
	}
	if !inTimelines(f.bobTok) {
		t.Error("the status is not back in the timelines")
	}
	// Its old token ended with the suspension; a new one works.
	f.wantStatus(t, f.daveTok, http.MethodGet, "/api/v1/accounts/verify_credentials", nil, http.StatusUnauthorized)
	f.wantStatus(t, f.userToken(t, f.dave, "read"), http.MethodGet, "/api/v1/accounts/verify_credentials", nil, http.StatusOK)

	f.wantStatus(t, f.adminTok, http.MethodDelete, "/api/v1/admin/accounts/"+daveID, nil, http.StatusForbidden)
	f.okJSON(t, f.adminTok, http.MethodPost, "/api/v1/admin/accounts/"+daveID+"/action", url.Values{"type": {"suspend"}})
	v = f.okJSON(t, f.adminTok, http.MethodDelete, "/api/v1/admin/accounts/"+daveID, nil)
	if mustLookup(v, "id") != daveID {
		t.Errorf("delete answered %v", v)
	}
	f.wantStatus(t, f.adminTok, http.MethodGet, "/api/v1/admin/accounts/"+daveID, nil, http.StatusNotFound)
	f.wantStatus(t, f.adminTok, http.MethodDelete, "/api/v1/admin/accounts/"+daveID, nil, http.StatusNotFound)
}
