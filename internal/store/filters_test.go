package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Filters are each account's own: stored with their keywords and statuses,
// changed and deleted only by their owner, bounded by the limits the
// caller gives, and gone with the status or account they hang on.
func TestFiltersStoredPerAccountWithinLimits(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	alice, bob := f.accounts[0], f.accounts[1]
	now := time.Now().UTC().Truncate(time.Millisecond)
	st := &Status{ID: f.id(), URI: "https://example.test/s/1", AccountID: bob, Local: true, Visibility: Public, Text: "hi", CreatedAt: now}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
		t.Fatal(err)
	}
	lim := FilterLimits{Filters: 2, Keywords: 2, Statuses: 1}
	fl := &Filter{ID: f.id(), AccountID: alice, Title: "spoilers", Contexts: 5, Hide: true, ExpiresAt: now.Add(time.Hour), CreatedAt: now,
		Keywords: []FilterKeyword{{ID: f.id(), Keyword: "finale", WholeWord: true}, {ID: f.id(), Keyword: "ending"}}}
	if err := f.s.CreateFilter(ctx, fl, lim); err != nil {
		t.Fatal(err)
	}
	fs := &FilterStatus{ID: f.id(), FilterID: fl.ID, StatusID: st.ID}
	if err := f.s.AddFilterStatus(ctx, alice, fs, lim, now); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.FilterByID(ctx, alice, fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "spoilers" || got.Contexts != 5 || !got.Hide || !got.ExpiresAt.Equal(fl.ExpiresAt) || len(got.Keywords) != 2 ||
		got.Keywords[0].Keyword != "finale" || !got.Keywords[0].WholeWord || got.Keywords[1].WholeWord || len(got.Statuses) != 1 || got.Statuses[0].StatusID != st.ID {
		t.Fatalf("stored %+v", got)
	}

	// Not bob's to see, change or delete.
	if _, err := f.s.FilterByID(ctx, bob, fl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob read alice's filter: %v", err)
	}
	if err := f.s.DeleteFilter(ctx, bob, fl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob deleted alice's filter: %v", err)
	}
	if err := f.s.DeleteFilterKeyword(ctx, bob, got.Keywords[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob deleted alice's keyword: %v", err)
	}
	if _, err := f.s.FilterStatusByID(ctx, bob, fs.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob read alice's filtered status: %v", err)
	}
	if err := f.s.UpdateFilter(ctx, bob, fl.ID, FilterChange{}, lim, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob changed alice's filter: %v", err)
	}

	// The limits.
	if err := f.s.AddFilterKeyword(ctx, alice, &FilterKeyword{ID: f.id(), FilterID: fl.ID, Keyword: "third"}, lim, now); !errors.Is(err, ErrFilterLimit) {
		t.Errorf("a third keyword: %v", err)
	}
	if err := f.s.AddFilterStatus(ctx, alice, &FilterStatus{ID: f.id(), FilterID: fl.ID, StatusID: st.ID}, FilterLimits{Statuses: 5}, now); !errors.Is(err, ErrConflict) {
		t.Errorf("the same status twice: %v", err)
	}
	if err := f.s.UpdateFilter(ctx, alice, fl.ID, FilterChange{Add: []FilterKeyword{{ID: f.id(), Keyword: "x"}}}, lim, now); !errors.Is(err, ErrFilterLimit) {
		t.Errorf("a third keyword by update: %v", err)
	}
	second := &Filter{ID: f.id(), AccountID: alice, Title: "two", Contexts: 1, CreatedAt: now}
	if err := f.s.CreateFilter(ctx, second, lim); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CreateFilter(ctx, &Filter{ID: f.id(), AccountID: alice, Title: "three", Contexts: 1, CreatedAt: now}, lim); !errors.Is(err, ErrFilterLimit) {
		t.Errorf("a third filter: %v", err)
	}
	if err := f.s.CreateFilter(ctx, &Filter{ID: f.id(), AccountID: bob, Title: "bob's", Contexts: 1, CreatedAt: now}, lim); err != nil {
		t.Errorf("bob's first filter, alice's count full: %v", err)
	}

	// An update in one transaction: a keyword changed, one destroyed, one
	// added; a keyword of another filter is not found and changes nothing.
	title, contexts, hide, never := "renamed", 2, false, time.Time{}
	err = f.s.UpdateFilter(ctx, alice, fl.ID, FilterChange{Title: &title, Contexts: &contexts, Hide: &hide, ExpiresAt: &never,
		Update:  []FilterKeyword{{ID: got.Keywords[0].ID, Keyword: "FINALE", WholeWord: false}},
		Destroy: []int64{got.Keywords[1].ID}, Add: []FilterKeyword{{ID: f.id(), Keyword: "new", WholeWord: true}}}, lim, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.UpdateFilter(ctx, alice, second.ID, FilterChange{Title: &title, Destroy: []int64{got.Keywords[0].ID}}, lim, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("destroying another filter's keyword: %v", err)
	}
	list, err := f.s.Filters(ctx, alice)
	if err != nil || len(list) != 2 {
		t.Fatalf("Filters: %+v, %v", list, err)
	}
	u := list[0]
	if u.Title != "renamed" || u.Contexts != 2 || u.Hide || !u.ExpiresAt.IsZero() || len(u.Keywords) != 2 || u.Keywords[0].Keyword != "FINALE" ||
		u.Keywords[0].WholeWord || u.Keywords[1].Keyword != "new" || list[1].Title != "two" {
		t.Errorf("after the update: %+v", list)
	}
	// A v1 update of the filter's own fields is refused while it has two keywords.
	if err := f.s.UpdateFilter(ctx, alice, fl.ID, FilterChange{Title: &title, OnlyKeyword: true}, lim, now); !errors.Is(err, ErrFilterLimit) {
		t.Errorf("a v1 change of a filter of two keywords: %v", err)
	}

	// Deleting the status takes its filter row; deleting the filter its keywords.
	if err := f.s.DeleteStatus(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FilterStatusByID(ctx, alice, fs.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the filtered status outlived its status: %v", err)
	}
	if err := f.s.DeleteFilter(ctx, alice, fl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FilterKeywordByID(ctx, alice, u.Keywords[1].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a keyword outlived its filter: %v", err)
	}
}

// ActiveFilters holds the filters of each account asked for that have
// not expired at the time given and have a keyword or a status, each with
// them: an expired filter stops applying at once, with no sweep.
func TestActiveFiltersLeaveOutTheExpired(t *testing.T) {
	ctx := context.Background()
	f := newCounterFixture(t, 3)
	alice, bob, carol := f.accounts[0], f.accounts[1], f.accounts[2]
	now := time.Now().UTC().Truncate(time.Millisecond)
	st := &Status{ID: f.id(), URI: "https://example.test/s/1", AccountID: carol, Local: true, Visibility: Public, Text: "hi", CreatedAt: now}
	if err := f.s.CreateStatus(ctx, NewStatus{Status: st}); err != nil {
		t.Fatal(err)
	}
	lim := FilterLimits{Filters: 10, Keywords: 10, Statuses: 10}
	mk := func(account int64, title string, expires time.Time, keywords ...string) *Filter {
		fl := &Filter{ID: f.id(), AccountID: account, Title: title, Contexts: 1, ExpiresAt: expires, CreatedAt: now}
		for _, k := range keywords {
			fl.Keywords = append(fl.Keywords, FilterKeyword{ID: f.id(), Keyword: k})
		}
		if err := f.s.CreateFilter(ctx, fl, lim); err != nil {
			t.Fatal(err)
		}
		return fl
	}
	forever := mk(alice, "forever", time.Time{}, "a", "b")
	later := mk(alice, "later", now.Add(time.Minute), "c")
	mk(alice, "past", now.Add(-time.Millisecond), "d")
	mk(alice, "empty", time.Time{})
	byStatus := mk(alice, "by status", time.Time{})
	if err := f.s.AddFilterStatus(ctx, alice, &FilterStatus{ID: f.id(), FilterID: byStatus.ID, StatusID: st.ID}, lim, now); err != nil {
		t.Fatal(err)
	}
	mk(bob, "bob's", time.Time{}, "e")

	got, err := f.s.ActiveFilters(ctx, []int64{alice, bob, carol}, now)
	if err != nil {
		t.Fatal(err)
	}
	titles := func(l []Filter) []string {
		var out []string
		for _, x := range l {
			out = append(out, x.Title)
		}
		return out
	}
	a := got[alice]
	if len(a) != 3 || a[0].ID != forever.ID || len(a[0].Keywords) != 2 || a[1].ID != later.ID || len(a[1].Keywords) != 1 ||
		a[2].ID != byStatus.ID || len(a[2].Statuses) != 1 || a[2].Statuses[0].StatusID != st.ID || len(a[2].Keywords) != 0 {
		t.Errorf("alice's active filters: %v (%+v)", titles(a), a)
	}
	if len(got[bob]) != 1 || got[bob][0].Keywords[0].Keyword != "e" || len(got[carol]) != 0 {
		t.Errorf("bob's and carol's: %+v", got)
	}
	// A minute on, "later" has expired.
	got, err = f.s.ActiveFilters(ctx, []int64{alice}, now.Add(time.Minute))
	if err != nil || len(got[alice]) != 2 {
		t.Errorf("a minute later: %v, %v", titles(got[alice]), err)
	}
}

// Loading the active filters, on every signed-in read, walks indexes only:
// the account's filters, then each one's keywords and statuses.
func TestActiveFiltersPlanUsesIndexes(t *testing.T) {
	sqliteOnly(t, "the plans SQLite's query planner makes")
	f := newCounterFixture(t, 2)
	for _, viewers := range [][]int64{{f.accounts[0]}, f.accounts} {
		q, args := activeFiltersSQL(viewers, time.Now())
		plan := explainAll(t, f.s, q, args)
		for _, line := range strings.Split(plan, "\n") {
			if strings.Contains(line, "SCAN") && !strings.Contains(line, "USING") && !strings.Contains(line, "VIRTUAL TABLE") { // the JSON list of accounts itself
				t.Errorf("a full scan: %s\n%s", line, plan)
			}
		}
		for _, index := range []string{"filters_account", "filter_keywords_filter", "sqlite_autoindex_filter_statuses_1"} {
			if !strings.Contains(plan, index) {
				t.Errorf("the plan does not use %s:\n%s", index, plan)
			}
		}
	}
}
