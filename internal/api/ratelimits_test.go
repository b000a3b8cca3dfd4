package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/accounts"
)

// quotaOf reads an answer's X-RateLimit headers, failing when one is
// missing or malformed.
func quotaOf(t *testing.T, rec *httptest.ResponseRecorder) (limit, remaining int, reset time.Time) {
	t.Helper()
	h := rec.Header()
	var err error
	if limit, err = strconv.Atoi(h.Get("X-RateLimit-Limit")); err != nil {
		t.Fatalf("X-RateLimit-Limit %q (status %d)", h.Get("X-RateLimit-Limit"), rec.Code)
	}
	if remaining, err = strconv.Atoi(h.Get("X-RateLimit-Remaining")); err != nil {
		t.Fatalf("X-RateLimit-Remaining %q", h.Get("X-RateLimit-Remaining"))
	}
	if reset, err = time.Parse(time.RFC3339Nano, h.Get("X-RateLimit-Reset")); err != nil {
		t.Fatalf("X-RateLimit-Reset %q: %v", h.Get("X-RateLimit-Reset"), err)
	}
	return limit, remaining, reset
}

// Every API answer says what is left of the caller's allowance, errors
// included, counted per token and, without one, per address.
func TestEveryAnswerCarriesRateLimitHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.userToken(t, e.bob, "read write")
	start := time.Now()
	for i, c := range []struct {
		path    string
		headers []string
		status  int
		left    int
	}{
		{"/api/v1/instance", nil, http.StatusOK, 299},
		{"/api/v1/no-such-endpoint", nil, http.StatusNotFound, 298},
		{"/api/v1/timelines/home", bearerHeader(tok), http.StatusOK, 299},
		{"/api/v1/accounts/verify_credentials", bearerHeader(tok), http.StatusOK, 298},
		{"/api/v1/statuses/1", bearerHeader(tok), http.StatusNotFound, 297},
		// A value that is no token counts under the address (its third).
		{"/api/v1/timelines/home", bearerHeader("not-a-token"), http.StatusUnauthorized, 297},
	} {
		rec := e.do(t, http.MethodGet, c.path, nil, c.headers...)
		if rec.Code != c.status {
			t.Fatalf("%d: GET %s: %d, want %d", i, c.path, rec.Code, c.status)
		}
		limit, left, reset := quotaOf(t, rec)
		if limit != 300 || left != c.left {
			t.Errorf("%d: GET %s: limit %d remaining %d, want 300 and %d", i, c.path, limit, left, c.left)
		}
		if reset.Before(start) || reset.After(time.Now().Add(5*time.Minute)) {
			t.Errorf("%d: reset %s is not within the 5-minute window", i, reset)
		}
	}
}

// Past limits.api_requests a token is refused with 429 and Retry-After, and
// another token (or a client without one) is not.
func TestRequestLimitRefusesARunawayToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, `[limits]`, `api_requests = 3`, `api_requests_anonymous = 2`)
	runaway, other := e.userToken(t, e.bob, "read"), e.userToken(t, e.bob, "read")
	for i := range 3 {
		if rec := e.do(t, http.MethodGet, "/api/v1/timelines/home", nil, bearerHeader(runaway)...); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, rec.Code)
		}
	}
	rec := e.do(t, http.MethodGet, "/api/v1/timelines/home", nil, bearerHeader(runaway)...)
	wantJSON(t, rec, http.StatusTooManyRequests)
	if ra, _ := strconv.Atoi(rec.Header().Get("Retry-After")); ra < 1 || ra > 300 {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	if limit, left, _ := quotaOf(t, rec); limit != 3 || left != 0 {
		t.Errorf("refused answer: limit %d remaining %d, want 3 and 0", limit, left)
	}
	if rec := e.do(t, http.MethodGet, "/api/v1/timelines/home", nil, bearerHeader(other)...); rec.Code != http.StatusOK {
		t.Errorf("another token: %d, want 200", rec.Code)
	}
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		if rec := e.do(t, http.MethodGet, "/api/v1/instance", nil); rec.Code != want {
			t.Errorf("anonymous request %d: %d, want %d", i+1, rec.Code, want)
		}
	}
}

// An account's posts, reblogs, follows and uploads have allowances of their
// own, in the database; their answers carry those allowances' headers.
func TestAccountLimitsOnPostingFollowingAndUploading(t *testing.T) {
	t.Parallel()
	e := newEnv(t, `[limits]`, `posts = 2`, `follows = 1`, `uploads = 1`)
	tok := e.userToken(t, e.bob, "read write follow")
	form := func(v url.Values) (string, []string) {
		return v.Encode(), append(bearerHeader(tok), "Content-Type", "application/x-www-form-urlencoded")
	}
	var ids []string
	for i, want := range []int{1, 0} {
		body, h := form(url.Values{"status": {"post " + strconv.Itoa(i)}})
		rec := e.do(t, http.MethodPost, "/api/v1/statuses", strings.NewReader(body), h...)
		ids = append(ids, wantJSON(t, rec, http.StatusOK)["id"].(string))
		if limit, left, reset := quotaOf(t, rec); limit != 2 || left != want || reset.Before(time.Now().Add(2*time.Hour)) {
			t.Errorf("post %d: limit %d remaining %d reset %s, want 2, %d and the 3-hour window", i+1, limit, left, reset, want)
		}
	}
	body, h := form(url.Values{"status": {"one too many"}})
	rec := e.do(t, http.MethodPost, "/api/v1/statuses", strings.NewReader(body), h...)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third post: %d %s, want 429 with Retry-After", rec.Code, rec.Body)
	}
	// Reblogs count apart: the posting limit is spent, reblogging is not.
	alice := e.userToken(t, e.alice, "write")
	aliceStatus := e.post(t, alice, url.Values{"status": {"public"}, "visibility": {"public"}})
	if rec := e.do(t, http.MethodPost, "/api/v1/statuses/"+aliceStatus+"/reblog", nil, bearerHeader(tok)...); rec.Code != http.StatusOK {
		t.Errorf("reblog after the posting limit: %d %s", rec.Code, rec.Body)
	}

	// Follows: one allowed (alice is locked: a request); asking again is
	// not counted; a second account is refused.
	follow := func(id int64) *httptest.ResponseRecorder {
		return e.do(t, http.MethodPost, "/api/v1/accounts/"+idString(id)+"/follow", nil, bearerHeader(tok)...)
	}
	if rec := follow(e.alice.ID); rec.Code != http.StatusOK {
		t.Fatalf("first follow: %d %s", rec.Code, rec.Body)
	}
	if rec := follow(e.alice.ID); rec.Code != http.StatusOK {
		t.Errorf("following the same account again: %d %s", rec.Code, rec.Body)
	}
	dave, _, err := e.acc.Create(context.Background(), accounts.NewParams{Username: "dave", Email: "dave@example.test",
		Password: fixturePassword, Role: accounts.RoleUser, Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	if rec := follow(dave.ID); rec.Code != http.StatusTooManyRequests {
		t.Errorf("second account: %d %s, want 429", rec.Code, rec.Body)
	}

	// Uploads: the second is refused before its body is read (the body
	// here is no upload at all, which a read would answer 422).
	upload := func() *httptest.ResponseRecorder {
		return e.do(t, http.MethodPost, "/api/v2/media", strings.NewReader("--b\r\nnot a file\r\n--b--\r\n"),
			append(bearerHeader(tok), "Content-Type", "multipart/form-data; boundary=b")...)
	}
	if rec := upload(); rec.Code == http.StatusTooManyRequests {
		t.Fatalf("first upload refused: %s", rec.Body)
	}
	rec = upload()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("second upload: %d %s, want 429", rec.Code, rec.Body)
	}
	if limit, left, _ := quotaOf(t, rec); limit != 1 || left != 0 {
		t.Errorf("refused upload: limit %d remaining %d", limit, left)
	}
}
