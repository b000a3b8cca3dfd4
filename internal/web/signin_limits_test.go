package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signInAttempt posts the sign-in form as a fresh browser would (form, then POST).
func (s *site) signInAttempt(login, pw string) *httptest.ResponseRecorder {
	s.t.Helper()
	form := s.get("/auth/sign_in")
	m := csrfField.FindStringSubmatch(form.Body.String())
	if form.Code != http.StatusOK || m == nil {
		s.t.Fatalf("sign-in form: %d", form.Code)
	}
	body := url.Values{"csrf_token": {html.UnescapeString(m[1])}, "username": {login}, "password": {pw}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "/auth/sign_in", strings.NewReader(body))
	req.Host = s.host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range form.Result().Cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.inst.Handler().ServeHTTP(rec, req)
	return rec
}

// Many unique logins of almost a megabyte through the form get the answer a
// wrong password gets, and leave nothing behind: no limiter key, no memory.
func TestHugeLoginsThroughTheFormKeepNothing(t *testing.T) {
	s := openSite(t)
	s.user("alice")
	wrong := s.signInAttempt("alice", "not the password at all")
	if wrong.Code != http.StatusUnauthorized || !strings.Contains(wrong.Body.String(), "Wrong username or password.") ||
		!strings.Contains(wrong.Body.String(), `value="alice"`) {
		t.Fatalf("wrong password: %d (a login of a real length is shown again)", wrong.Code)
	}
	keys := s.signInKeys()
	big := strings.Repeat("L", 1<<20-4096) // the form stays under http.max_body_bytes
	before := heapAlloc()
	for i := 0; i < 200; i++ {
		rec := s.signInAttempt(strconv.Itoa(i)+big, "not the password at all")
		if rec.Code != wrong.Code || !strings.Contains(rec.Body.String(), "Wrong username or password.") {
			t.Fatalf("huge login %d: %d, not the wrong-password answer", i, rec.Code)
		}
		if rec.Body.Len() > 64<<10 {
			t.Fatalf("huge login %d: the page echoes it (%d bytes)", i, rec.Body.Len())
		}
	}
	if k := s.signInKeys(); k != keys {
		t.Errorf("the sign-in limiters went from %d to %d keys", keys, k)
	}
	if grew := int64(heapAlloc()) - int64(before); grew > 8<<20 {
		t.Errorf("the heap grew by %d KiB after 200 huge logins", grew>>10)
	}
	// The address was not spent either: the owner still signs in from it.
	if rec := s.signInAttempt("alice", "correct horse battery"); rec.Code != http.StatusSeeOther {
		t.Errorf("the owner after the huge logins: %d", rec.Code)
	}
}

// signInKeys is how many keys the sign-in limits hold, in the database.
func (s *site) signInKeys() int {
	s.t.Helper()
	n, err := s.inst.Accounts().SignInKeys(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
