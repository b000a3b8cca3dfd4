package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// scheduledFixture is a store with local accounts 1 (alice), 2 (bob) and 3
// (carol), and ready uploads of alice's (10, 11, 12) and bob's (20).
func scheduledFixture(t *testing.T, path string) *Store {
	t.Helper()
	ctx := context.Background()
	s := open(t, path)
	at := time.Now().Add(-48 * time.Hour)
	for i, name := range []string{"alice", "bob", "carol"} {
		a := &Account{ID: int64(i + 1), Username: name, URI: "https://example.test/users/" + name, URL: "https://example.test/@" + name,
			CreatedAt: at, UpdatedAt: at}
		u := &User{Email: name + "@example.test", PasswordHash: "x", Role: "user", Approved: true, Locale: "en", DefaultPrivacy: "public", CreatedAt: at}
		if err := s.CreateLocalAccount(ctx, a, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct{ id, owner int64 }{{10, 1}, {11, 1}, {12, 1}, {20, 2}} {
		if err := s.CreateMedia(ctx, &Media{ID: m.id, AccountID: m.owner, Kind: "image", ContentType: "image/png",
			FileKey: "f" + string(rune('a'+m.id)), PreviewKey: "p" + string(rune('a'+m.id)), Meta: "{}", State: "ready", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func localStatus(id, author int64, vis Visibility) *Status {
	return &Status{ID: id, AccountID: author, Local: true, Visibility: vis, Text: "t", Content: "<p>t</p>",
		URI: fmt.Sprintf("https://example.test/statuses/%d", id), CreatedAt: time.Now()}
}

// A scheduled status is a row and a job due at its time, durable across a
// restart: the job is not due before its time and is due after it, and
// publishing it (a post with ScheduledID) takes the row and its held
// uploads in one transaction, once.
func TestScheduledStatusIsDueAtItsTimeAfterARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	s := scheduledFixture(t, path)
	due := time.Now().Add(time.Hour)
	if err := s.CreateScheduledStatus(ctx, &ScheduledStatus{ID: 100, AccountID: 1, ScheduledAt: due, Params: `{"text":"later"}`,
		MediaIDs: []int64{11, 10}, CreatedAt: time.Now()}, ScheduledLimits{Total: 300, Daily: 25}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path) // the process restarts
	defer s.Close()
	if jobs, err := s.ClaimJobs(ctx, time.Now(), time.Minute, 10, KindPublishScheduled); err != nil || len(jobs) != 0 {
		t.Fatalf("claimed before its time: %v %v", jobs, err)
	}
	jobs, err := s.ClaimJobs(ctx, due.Add(time.Second), time.Minute, 10, KindPublishScheduled)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("at its time: %v %v", jobs, err)
	}
	var p ScheduledPayload
	if err := json.Unmarshal(jobs[0].Payload, &p); err != nil || p.ID != 100 {
		t.Fatalf("payload %s: %v", jobs[0].Payload, err)
	}
	sc, err := s.ScheduledStatusByID(ctx, 0, 100)
	if err != nil || sc.Params != `{"text":"later"}` || len(sc.MediaIDs) != 2 || sc.MediaIDs[0] != 11 || sc.MediaIDs[1] != 10 {
		t.Fatalf("stored: %+v %v", sc, err)
	}
	if _, err := s.ScheduledStatusByID(ctx, 2, 100); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob loads alice's scheduled status: %v", err)
	}

	publish := func(id int64) error {
		return s.CreateStatus(ctx, NewStatus{Status: localStatus(id, 1, Public), MediaIDs: sc.MediaIDs, ScheduledID: 100})
	}
	if err := publish(500); err != nil {
		t.Fatal(err)
	}
	if err := publish(501); !errors.Is(err, ErrNotFound) {
		t.Errorf("published twice: %v", err)
	}
	if _, err := s.StatusByID(ctx, 501); !errors.Is(err, ErrNotFound) {
		t.Error("the second publication left a status")
	}
	media, _ := s.MediaForStatuses(ctx, []int64{500})
	if len(media[500]) != 2 || media[500][0].ID != 11 {
		t.Errorf("the post's media: %+v", media[500])
	}
	if _, err := s.ScheduledStatusByID(ctx, 0, 100); !errors.Is(err, ErrNotFound) {
		t.Errorf("the scheduled status outlived its publication: %v", err)
	}
}

// Uploads held for a scheduled status are not swept, not deleted, and not
// attached elsewhere, by anyone; cancelling lets them go.
func TestScheduledStatusHoldsItsUploads(t *testing.T) {
	ctx := context.Background()
	s := scheduledFixture(t, filepath.Join(t.TempDir(), "db.sqlite"))
	defer s.Close()
	lim := ScheduledLimits{Total: 300, Daily: 25}
	at := time.Now().Add(time.Hour)
	if err := s.CreateScheduledStatus(ctx, &ScheduledStatus{ID: 100, AccountID: 1, ScheduledAt: at, Params: `{}`, MediaIDs: []int64{10}, CreatedAt: time.Now()}, lim); err != nil {
		t.Fatal(err)
	}
	// Bob's upload, or one held already, cannot be held.
	for _, ids := range [][]int64{{20}, {10}} {
		err := s.CreateScheduledStatus(ctx, &ScheduledStatus{ID: 101, AccountID: 1, ScheduledAt: at, Params: `{}`, MediaIDs: ids, CreatedAt: time.Now()}, lim)
		if !errors.Is(err, ErrMediaUnavailable) {
			t.Errorf("holding %v: %v", ids, err)
		}
	}
	if _, err := s.ScheduledStatusByID(ctx, 0, 101); !errors.Is(err, ErrNotFound) {
		t.Error("a refused scheduled status was kept")
	}
	if err := s.CreateStatus(ctx, NewStatus{Status: localStatus(500, 1, Public), MediaIDs: []int64{10}}); !errors.Is(err, ErrMediaUnavailable) {
		t.Errorf("a plain post took the held upload: %v", err)
	}
	if deleted, err := s.DeleteUnusedUpload(ctx, 10); err != nil || deleted {
		t.Errorf("the held upload was deleted: %v %v", deleted, err)
	}
	if _, rows, err := s.ExpiredUploads(ctx, time.Now()); err != nil || rows != 3 {
		t.Fatalf("sweep: %d rows, %v; want alice's two free uploads and bob's", rows, err)
	}
	if m, err := s.MediaByID(ctx, 10); err != nil || m.State != "ready" {
		t.Fatalf("the held upload was swept: %v", err)
	}
	if err := s.DeleteScheduledStatus(ctx, 2, 100); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob cancels alice's: %v", err)
	}
	if err := s.DeleteScheduledStatus(ctx, 1, 100); err != nil {
		t.Fatal(err)
	}
	if _, rows, err := s.ExpiredUploads(ctx, time.Now()); err != nil || rows != 1 {
		t.Errorf("after cancelling, the sweep took %d rows (%v), want the upload let go", rows, err)
	}
}

// At most Total scheduled statuses wait, at most Daily for one UTC day; a
// reschedule counts the day it moves to, not itself.
func TestScheduledStatusLimits(t *testing.T) {
	ctx := context.Background()
	s := scheduledFixture(t, filepath.Join(t.TempDir(), "db.sqlite"))
	defer s.Close()
	lim := ScheduledLimits{Total: 3, Daily: 2}
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(72 * time.Hour)
	schedule := func(id int64, at time.Time) error {
		return s.CreateScheduledStatus(ctx, &ScheduledStatus{ID: id, AccountID: 1, ScheduledAt: at, Params: `{}`, CreatedAt: time.Now()}, lim)
	}
	for i, at := range []time.Time{day.Add(time.Hour), day.Add(2 * time.Hour)} {
		if err := schedule(int64(100+i), at); err != nil {
			t.Fatal(err)
		}
	}
	if err := schedule(102, day.Add(23*time.Hour)); !errors.Is(err, ErrScheduledDaily) {
		t.Errorf("a third on one day: %v", err)
	}
	if err := schedule(102, day.Add(25*time.Hour)); err != nil {
		t.Fatalf("the next day: %v", err)
	}
	if err := schedule(103, day.Add(49*time.Hour)); !errors.Is(err, ErrScheduledTotal) {
		t.Errorf("a fourth in all: %v", err)
	}
	// Bob's count is his own.
	if err := s.CreateScheduledStatus(ctx, &ScheduledStatus{ID: 200, AccountID: 2, ScheduledAt: day.Add(time.Hour), Params: `{}`, CreatedAt: time.Now()}, lim); err != nil {
		t.Errorf("bob: %v", err)
	}
	if err := s.RescheduleStatus(ctx, 1, 102, day.Add(3*time.Hour), lim); !errors.Is(err, ErrScheduledDaily) {
		t.Errorf("moved onto a full day: %v", err)
	}
	if err := s.RescheduleStatus(ctx, 1, 100, day.Add(5*time.Hour), lim); err != nil {
		t.Errorf("moved within its own day: %v", err)
	}
	if err := s.RescheduleStatus(ctx, 2, 100, day.Add(5*time.Hour), lim); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob moves alice's: %v", err)
	}
	// Paging: newest id first.
	list, err := s.ScheduledStatuses(ctx, 1, Page{Limit: 2})
	if err != nil || len(list) != 2 || list[0].ID != 102 || list[1].ID != 101 {
		t.Fatalf("page 1: %+v %v", list, err)
	}
	list, err = s.ScheduledStatuses(ctx, 1, Page{Limit: 2, MaxID: 101})
	if err != nil || len(list) != 1 || list[0].ID != 100 || !list[0].ScheduledAt.Equal(day.Add(5*time.Hour)) {
		t.Fatalf("page 2: %+v %v", list, err)
	}
}

// Deleting a status lets its uploads go rather than deleting them: they are
// no longer served, their author (and nobody else) can attach them to a new
// post, and the sweep takes them only once the time counted from the
// deletion has passed.
func TestDeletedStatusLetsItsUploadsGoForARedraft(t *testing.T) {
	ctx := context.Background()
	s := scheduledFixture(t, filepath.Join(t.TempDir(), "db.sqlite"))
	defer s.Close()
	if err := s.CreateStatus(ctx, NewStatus{Status: localStatus(500, 1, Public), MediaIDs: []int64{10, 11}}); err != nil {
		t.Fatal(err)
	}
	m, _ := s.MediaByID(ctx, 10)
	if _, err := s.ServableKey(ctx, m.FileKey); err != nil {
		t.Fatalf("attached upload not served: %v", err)
	}
	st, _ := s.StatusByID(ctx, 500)
	if err := s.DeleteStatus(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	if m, err := s.MediaByID(ctx, 10); err != nil || m.StatusID != 0 {
		t.Fatalf("after the delete: %+v %v", m, err)
	}
	if _, err := s.ServableKey(ctx, m.FileKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted status's upload is still served: %v", err)
	}
	// Uploaded two days ago, let go now: a sweep of what is older than a
	// day keeps them (the day counts from the delete).
	if _, rows, err := s.ExpiredUploads(ctx, time.Now().Add(-24*time.Hour)); err != nil || rows != 2 {
		t.Fatalf("sweep: %d rows %v; want only the two never attached (12, 20)", rows, err)
	}
	if err := s.CreateStatus(ctx, NewStatus{Status: localStatus(501, 2, Public), MediaIDs: []int64{10}}); !errors.Is(err, ErrMediaUnavailable) {
		t.Errorf("bob attached alice's let-go upload: %v", err)
	}
	if err := s.CreateStatus(ctx, NewStatus{Status: localStatus(502, 1, Public), MediaIDs: []int64{10}}); err != nil {
		t.Fatalf("the redraft: %v", err)
	}
	if _, err := s.ServableKey(ctx, m.FileKey); err != nil {
		t.Errorf("the redraft's upload is not served: %v", err)
	}
	// 11 was not taken again: a day after the delete, the sweep takes it.
	if _, rows, err := s.ExpiredUploads(ctx, time.Now().Add(time.Minute)); err != nil || rows != 1 {
		t.Fatalf("later sweep: %d rows %v", rows, err)
	}
	if _, err := s.MediaByID(ctx, 11); !errors.Is(err, ErrNotFound) {
		t.Error("the upload no redraft took outlived the sweep")
	}
	if _, err := s.MediaByID(ctx, 10); err != nil {
		t.Error("the redraft's upload was swept")
	}
}

// A deleted account's scheduled statuses and conversations go with it: no
// job publishes for an account that is gone.
func TestDeletedAccountLeavesNoScheduledStatusesOrConversations(t *testing.T) {
	ctx := context.Background()
	s := scheduledFixture(t, filepath.Join(t.TempDir(), "db.sqlite"))
	defer s.Close()
	if err := s.CreateScheduledStatus(ctx, &ScheduledStatus{ID: 100, AccountID: 1, ScheduledAt: time.Now().Add(time.Hour), Params: `{}`,
		MediaIDs: []int64{10}, CreatedAt: time.Now()}, ScheduledLimits{}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStatus(ctx, NewStatus{Status: localStatus(500, 2, Direct), MentionIDs: []int64{1}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Conversations(ctx, 1, Page{Limit: 5}); len(c) != 1 {
		t.Fatalf("alice's conversations before: %+v", c)
	}
	if err := s.DeleteLocalAccount(ctx, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if l, err := s.ScheduledStatuses(ctx, 1, Page{Limit: 5}); err != nil || len(l) != 0 {
		t.Errorf("scheduled statuses after the delete: %+v %v", l, err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_conversations WHERE account_id = 1`).Scan(&n); err != nil || n != 0 {
		t.Errorf("conversation rows after the delete: %d %v", n, err)
	}
}
