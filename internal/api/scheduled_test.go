package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// readyUpload stores a processed upload of account's, as the media
// service leaves one, and returns its id.
func (f *socialFixture) readyUpload(t *testing.T, account int64, id int64, placeholder string) string {
	t.Helper()
	if err := f.st.CreateMedia(context.Background(), &store.Media{ID: id, AccountID: account, Kind: "image", ContentType: "image/png",
		FileKey: "ab/" + idString(id) + ".png", PreviewKey: "ab/" + idString(id) + "-small.jpg", FileSize: 10,
		Meta: `{"original":{"width":4,"height":4}}`, State: "ready", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.name(idString(id), placeholder)
	return idString(id)
}

// A post with scheduled_at answers a ScheduledStatus in Mastodon's shape,
// holds its uploads, and is listed, read, moved and cancelled by its author
// alone; a time less than five minutes ahead, or not a time, is 422.
func TestScheduledStatusEntity(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	media := f.readyUpload(t, f.alice.ID, 7_000_000_000_001, "MEDIA")
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	form := url.Values{"status": {"Later, @bob"}, "scheduled_at": {at.Format(time.RFC3339Nano)}, "visibility": {"unlisted"},
		"spoiler_text": {"soon"}, "language": {"fr"}, "in_reply_to_id": {f.parent}, "media_ids[]": {media}}
	rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", form)
	sc := decodeAny(t, rec, http.StatusOK)
	id := mustLookup(sc, "id").(string)
	f.name(id, "SCHEDULED")
	checkSocialContract(t, "scheduled status", sc)
	if got := mustLookup(sc, "scheduled_at"); got != timestamp(at) {
		t.Errorf("scheduled_at %v, want %s", got, timestamp(at))
	}
	if _, ok := lookup(sc, "content"); ok {
		t.Error("a scheduled post answered a Status")
	}
	shown := map[string]any{}
	for k, v := range sc.(map[string]any) {
		shown[k] = v
	}
	shown["scheduled_at"] = "<DATE>"
	f.golden(t, "scheduled_status", shown)

	// Nothing was posted.
	for _, st := range asList(t, f.get(t, f.aliceTok, "/api/v1/accounts/"+f.aliceID+"/statuses")) {
		if strings.Contains(mustLookup(st, "content").(string), "Later") {
			t.Error("the scheduled post was published at once")
		}
	}
	// The held upload cannot go into another post.
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"now"}, "media_ids[]": {media}}); rec.Code != 422 {
		t.Errorf("attaching the held upload: %d %s", rec.Code, rec.Body)
	}

	for _, tc := range []struct{ what, at string }{
		{"four minutes ahead", time.Now().Add(4 * time.Minute).Format(time.RFC3339)},
		{"in the past", time.Now().Add(-time.Hour).Format(time.RFC3339)},
		{"not a date", "tomorrow"},
	} {
		rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"x"}, "scheduled_at": {tc.at}})
		if rec.Code != 422 || !strings.Contains(rec.Body.String(), "scheduled_at") {
			t.Errorf("%s: %d %s", tc.what, rec.Code, rec.Body)
		}
	}
	// The posting rules hold when scheduling.
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {""}, "scheduled_at": {at.Format(time.RFC3339)}}); rec.Code != 422 {
		t.Errorf("a blank scheduled post: %d", rec.Code)
	}

	if got := f.get(t, f.aliceTok, "/api/v1/scheduled_statuses/"+id); f.diff(got, sc) != "" {
		t.Errorf("GET differs from the answer:\n%s", f.diff(got, sc))
	}
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/scheduled_statuses")); len(l) != 1 || mustLookup(l[0], "id") != id {
		t.Errorf("list: %v", f.norm(l, ""))
	}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		if rec := f.call(t, f.bobTok, m, "/api/v1/scheduled_statuses/"+id, url.Values{"scheduled_at": {at.Add(time.Hour).Format(time.RFC3339)}}); rec.Code != 404 {
			t.Errorf("bob %s alice's: %d", m, rec.Code)
		}
	}
	if l := asList(t, f.get(t, f.bobTok, "/api/v1/scheduled_statuses")); len(l) != 0 {
		t.Errorf("bob lists alice's: %v", l)
	}

	later := at.Add(24 * time.Hour)
	moved := f.okJSON(t, f.aliceTok, http.MethodPut, "/api/v1/scheduled_statuses/"+id, url.Values{"scheduled_at": {later.Format(time.RFC3339Nano)}})
	if mustLookup(moved, "scheduled_at") != timestamp(later) || mustLookup(moved, "params", "text") != "Later, @bob" {
		t.Errorf("moved: %v", f.norm(moved, ""))
	}
	if rec := f.call(t, f.aliceTok, http.MethodPut, "/api/v1/scheduled_statuses/"+id, url.Values{"scheduled_at": {time.Now().Format(time.RFC3339)}}); rec.Code != 422 {
		t.Errorf("moved to now: %d", rec.Code)
	}

	f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/scheduled_statuses/"+id, nil)
	if rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/scheduled_statuses/"+id, nil); rec.Code != 404 {
		t.Errorf("after cancelling: %d", rec.Code)
	}
	// Cancelling let the upload go: it can be posted now.
	if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"now"}, "media_ids[]": {media}}); rec.Code != 200 {
		t.Errorf("attaching the let-go upload: %d %s", rec.Code, rec.Body)
	}
}

// Scheduled statuses page with Link headers, newest first; reading needs
// read:statuses and changing write:statuses.
func TestScheduledStatusesPageAndScopes(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(48 * time.Hour)
	var ids []string
	for i := range 5 {
		v := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"s"},
			"scheduled_at": {base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)}})
		ids = append(ids, mustLookup(v, "id").(string))
	}
	rec := f.call(t, f.aliceTok, http.MethodGet, "/api/v1/scheduled_statuses?limit=2", nil)
	l := asList(t, decodeAny(t, rec, 200))
	if len(l) != 2 || mustLookup(l[0], "id") != ids[4] || mustLookup(l[1], "id") != ids[3] {
		t.Fatalf("page 1: %v", l)
	}
	link := rec.Header().Get("Link")
	if !strings.Contains(link, "max_id="+ids[3]) || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "min_id="+ids[4]) {
		t.Errorf("Link: %s", link)
	}
	l = asList(t, f.get(t, f.aliceTok, "/api/v1/scheduled_statuses?limit=2&max_id="+ids[3]))
	if len(l) != 2 || mustLookup(l[0], "id") != ids[2] {
		t.Errorf("page 2: %v", l)
	}

	read := f.userToken(t, f.alice, "read:statuses")
	write := f.userToken(t, f.alice, "write:statuses")
	for _, tc := range []struct {
		tok, method, path string
		want              int
	}{
		{write, http.MethodGet, "/api/v1/scheduled_statuses", 403},
		{write, http.MethodGet, "/api/v1/scheduled_statuses/" + ids[0], 403},
		{read, http.MethodGet, "/api/v1/scheduled_statuses", 200},
		{read, http.MethodPut, "/api/v1/scheduled_statuses/" + ids[0], 403},
		{read, http.MethodDelete, "/api/v1/scheduled_statuses/" + ids[0], 403},
		{write, http.MethodDelete, "/api/v1/scheduled_statuses/" + ids[0], 200},
		{"", http.MethodGet, "/api/v1/scheduled_statuses", 401},
	} {
		if rec := f.call(t, tc.tok, tc.method, tc.path, nil); rec.Code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
	if rec := f.call(t, read, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"s"}, "scheduled_at": {base.Format(time.RFC3339)}}); rec.Code != 403 {
		t.Errorf("scheduling with read:statuses: %d", rec.Code)
	}
}

// Mastodon's limits: 25 for one day. A repeated request (its
// Idempotency-Key) answers what it scheduled, and counts once.
func TestScheduledStatusesDailyLimit(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(48 * time.Hour)
	form := url.Values{"status": {"once"}, "scheduled_at": {day.Format(time.RFC3339)}}
	var first string
	for range 2 {
		rec := f.do(t, http.MethodPost, "/api/v1/statuses", strings.NewReader(form.Encode()),
			append(bearerHeader(f.aliceTok), "Content-Type", "application/x-www-form-urlencoded", "Idempotency-Key", "k1")...)
		id := mustLookup(decodeAny(t, rec, 200), "id").(string)
		if first != "" && id != first {
			t.Errorf("the repeated request scheduled %s, then %s", first, id)
		}
		first = id
	}
	if l := asList(t, f.get(t, f.aliceTok, "/api/v1/scheduled_statuses")); len(l) != 1 {
		t.Fatalf("after a repeated request: %d scheduled", len(l))
	}
	f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/scheduled_statuses/"+first, nil)
	for i := range 25 {
		f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"s"},
			"scheduled_at": {day.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)}})
	}
	rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"s"}, "scheduled_at": {day.Add(time.Hour).Format(time.RFC3339)}})
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "25") {
		t.Errorf("the 26th of a day: %d %s", rec.Code, rec.Body)
	}
	f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"s"}, "scheduled_at": {day.Add(25 * time.Hour).Format(time.RFC3339)}})
}

// Deleting a status answers it with its source text and attachments; its
// upload can go into its author's new post (not another's), and is served
// again only then.
func TestDeleteAndRedraftKeepsTheAttachments(t *testing.T) {
	t.Parallel()
	f := newSocialPair(t)
	media := f.readyUpload(t, f.alice.ID, 7_000_000_000_002, "MEDIA")
	id := f.postStatus(t, f.aliceTok, "STATUS", url.Values{"status": {"a *picture*"}, "media_ids[]": {media}, "visibility": {"public"}})
	del := f.okJSON(t, f.aliceTok, http.MethodDelete, "/api/v1/statuses/"+id, nil)
	if mustLookup(del, "text") != "a *picture*" {
		t.Errorf("text: %v", mustLookup(del, "text"))
	}
	atts := asList(t, mustLookup(del, "media_attachments"))
	if len(atts) != 1 || mustLookup(atts[0], "id") != media {
		t.Fatalf("media_attachments: %v", atts)
	}
	if rec := f.call(t, f.bobTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"mine"}, "media_ids[]": {media}}); rec.Code != 422 {
		t.Errorf("bob attaches alice's: %d", rec.Code)
	}
	again := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"a *picture*"}, "media_ids[]": {media}})
	if atts := asList(t, mustLookup(again, "media_attachments")); len(atts) != 1 || mustLookup(atts[0], "id") != media {
		t.Errorf("the redraft's attachments: %v", atts)
	}
}

// A scheduled post keeps its poll in its params, and is held to the poll
// rules when it is scheduled, not only when it is published.
func TestScheduledStatusKeepsItsPoll(t *testing.T) {
	t.Parallel()
	f := newSocialFixture(t)
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	sc := f.okJSON(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"Which?"}, "scheduled_at": {at},
		"poll[options][]": {"yes", "no"}, "poll[expires_in]": {"3600"}, "poll[multiple]": {"true"}})
	poll := mustLookup(sc, "params", "poll")
	if got := fmt.Sprintf("%v %v %v", mustLookup(poll, "options"), mustLookup(poll, "expires_in"), mustLookup(poll, "multiple")); got != "[yes no] 3600 true" {
		t.Errorf("params.poll %v", poll)
	}
	for what, form := range map[string]url.Values{
		"one option":       {"status": {"?"}, "scheduled_at": {at}, "poll[options][]": {"only"}, "poll[expires_in]": {"3600"}},
		"a poll and media": {"status": {"?"}, "scheduled_at": {at}, "poll[options][]": {"a", "b"}, "poll[expires_in]": {"3600"}, "media_ids[]": {f.readyUpload(t, f.alice.ID, 7_000_000_000_002, "MEDIA2")}},
	} {
		if rec := f.call(t, f.aliceTok, http.MethodPost, "/api/v1/statuses", form); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", what, rec.Code, rec.Body)
		}
	}
}
