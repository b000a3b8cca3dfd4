package ratelimit

import (
	"context"
	"testing"
	"time"
)

// TakeQuota says what is left and when the window ends, refused or not.
func TestTakeQuotaCountsDownToTheWindowsEnd(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := NewWithClock(3, time.Minute, 10, func() time.Time { return now })
	end := now.Add(time.Minute)
	for i, want := range []int{2, 1, 0} {
		q, wait := l.TakeQuota("k")
		if wait != 0 || q.Limit != 3 || q.Remaining != want || !q.Reset.Equal(end) {
			t.Fatalf("take %d: %+v wait %s, want remaining %d reset %s", i+1, q, wait, want, end)
		}
		now = now.Add(10 * time.Second)
	}
	q, wait := l.TakeQuota("k")
	if wait != 30*time.Second || q.Remaining != 0 || !q.Reset.Equal(end) {
		t.Errorf("refused take: %+v wait %s, want 0 left and 30s to wait", q, wait)
	}
	now = end
	if q, wait := l.TakeQuota("k"); wait != 0 || q.Remaining != 2 || !q.Reset.Equal(end.Add(time.Minute)) {
		t.Errorf("after the window: %+v wait %s", q, wait)
	}
}

// A request limited twice reports its tighter limit, and a Shared limiter
// reports to the request's Report.
func TestReportKeepsTheTightestQuota(t *testing.T) {
	ctx, r := WithReport(context.Background())
	if _, ok := r.Quota(); ok {
		t.Fatal("an empty report has a quota")
	}
	table := &fakeTable{counts: map[string]int{}}
	wide := NewShared(table, []byte("secret"), "wide", 10, time.Hour, nil)
	narrow := NewShared(table, []byte("secret"), "narrow", 2, time.Hour, nil)
	if err := narrow.Allow(ctx, "narrow things", "k"); err != nil {
		t.Fatal(err)
	}
	if err := wide.Allow(ctx, "wide things", "k"); err != nil {
		t.Fatal(err)
	}
	if q, ok := r.Quota(); !ok || q.Limit != 2 || q.Remaining != 1 {
		t.Errorf("report %+v %v, want the narrow limit's 1 of 2", q, ok)
	}
	_ = narrow.Allow(ctx, "narrow things", "k")
	err := narrow.Allow(ctx, "narrow things", "k")
	if we, ok := err.(*WaitError); !ok || we.What != "narrow things" {
		t.Errorf("third narrow take: %v, want a *WaitError", err)
	}
	var off *Shared
	if err := off.Allow(ctx, "anything", "k"); err != nil {
		t.Errorf("a limit turned off refused: %v", err)
	}
}
