package social

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-social/rampart/internal/store"
)

// NotificationGroup is one group of a page of grouped notifications
// (Mastodon 4.3's NotificationGroup).
type NotificationGroup struct {
	Key          string
	Type         string
	StatusID     int64 // 0: none
	Count        int64
	MostRecentID int64
	Samples      []int64 // senders, most recent first
	// Paged: a page of the list, with the page's part of the group.
	Paged     bool
	PageMinID int64
	LatestAt  time.Time
}

// GroupedPage is a page of grouped notifications with its cursors: Next
// (0: none) is the max_id of the page after, Prev the min_id of the one
// before.
type GroupedPage struct {
	Groups     []NotificationGroup
	Next, Prev int64
}

// groupScanRows bounds the notifications one page of groups reads: a page
// ends early (and names the next) when they fill fewer groups than asked.
const groupScanRows = 200

// GroupedNotifications pages the viewer's notifications grouped, as
// Mastodon's /api/v2/notifications does: a page holds up to p.Limit groups,
// each represented by its newest notification within the page's bounds
// (its oldest, paging up with min_id), newest first; each group counts and
// samples its notifications up to the page's newest.
func (s *Service) GroupedNotifications(ctx context.Context, viewer int64, f store.NotificationFilter, p store.Page, groupedTypes []string) (*GroupedPage, error) {
	limit := p.Limit
	scan := p
	scan.Limit = groupScanRows
	raw, err := s.store.Notifications(ctx, viewer, f, scan)
	if err != nil {
		return nil, err
	}
	up := p.MinID > 0
	if up { // pick the oldest of each group: read in ascending order
		slices.Reverse(raw)
	}
	groupable := groupableSet(groupedTypes)
	seen := map[string]bool{}
	var reps []store.Notification
	for _, n := range raw {
		k := effectiveGroupKey(n.ID, n.Type, n.GroupKey, groupable)
		if seen[k] {
			continue
		}
		seen[k] = true
		n.GroupKey = k
		reps = append(reps, n)
		if len(reps) == limit {
			break
		}
	}
	page := &GroupedPage{}
	if len(reps) == 0 {
		return page, nil
	}
	if up {
		slices.Reverse(reps)
	}
	newest, oldest := reps[0].ID, reps[len(reps)-1].ID
	truncated := len(raw) == groupScanRows && len(reps) < limit
	// The page's bounds: between its newest and oldest groups, or, on the
	// last page, on to the end the client asked for.
	lo, hi := oldest, newest
	switch {
	case truncated && !up:
		lo = raw[len(raw)-1].ID
	case truncated && up:
		hi = raw[len(raw)-1].ID
	case len(reps) < limit && !up:
		lo = p.SinceID + 1
	case len(reps) < limit && up:
		hi = math.MaxInt64
		if p.MaxID > 0 {
			hi = p.MaxID - 1
		}
	}
	page.Prev, page.Next = newest, oldest
	if truncated && !up {
		page.Next = lo
	}
	if truncated && up {
		page.Prev = hi
	}
	if len(reps) < limit && !truncated {
		page.Next = 0
	}
	page.Groups, err = s.groups(ctx, viewer, reps, lo, hi, true)
	return page, err
}

// groups fills in the groups the representatives stand for.
func (s *Service) groups(ctx context.Context, viewer int64, reps []store.Notification, lo, hi int64, paged bool) ([]NotificationGroup, error) {
	var keys []string
	for _, n := range reps {
		if !strings.HasPrefix(n.GroupKey, "ungrouped-") {
			keys = append(keys, n.GroupKey)
		}
	}
	data, err := s.store.NotificationGroups(ctx, viewer, keys, lo, hi)
	if err != nil {
		return nil, err
	}
	out := make([]NotificationGroup, 0, len(reps))
	for _, n := range reps {
		g := NotificationGroup{Key: n.GroupKey, Type: n.Type, StatusID: n.StatusID, Count: 1, MostRecentID: n.ID,
			Samples: []int64{n.FromAccountID}, Paged: paged, PageMinID: n.ID, LatestAt: n.CreatedAt}
		if d := data[n.GroupKey]; d != nil {
			g.Count, g.MostRecentID, g.Samples, g.LatestAt = d.Count, d.MostRecentID, d.Samples, d.LatestAt
			if d.PageMinID != 0 {
				g.PageMinID = d.PageMinID
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// groupFilter is the filter and, for "ungrouped-<id>", the id
// selecting a group's notifications; ok is false for a key that cannot be
// one.
func groupFilter(key string) (f store.NotificationFilter, id int64, ok bool) {
	if rest, found := strings.CutPrefix(key, "ungrouped-"); found {
		id, err := strconv.ParseInt(rest, 10, 64)
		return store.NotificationFilter{ID: id}, id, err == nil && id > 0
	}
	if key == "" || len(key) > 100 {
		return f, 0, false
	}
	return store.NotificationFilter{GroupKey: key}, 0, true
}

// NotificationGroup loads one group of the viewer's notifications, whole.
func (s *Service) NotificationGroup(ctx context.Context, viewer int64, key string) (*NotificationGroup, error) {
	f, _, ok := groupFilter(key)
	if !ok {
		return nil, ErrNotFound
	}
	list, err := s.store.Notifications(ctx, viewer, f, store.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 || list[0].Filtered {
		return nil, ErrNotFound
	}
	list[0].GroupKey = key
	groups, err := s.groups(ctx, viewer, list, 0, math.MaxInt64, false)
	if err != nil {
		return nil, err
	}
	return &groups[0], nil
}

// NotificationGroupAccounts pages the senders of a group's notifications,
// most recent first, one a notification (cursors: the notifications' ids).
func (s *Service) NotificationGroupAccounts(ctx context.Context, viewer int64, key string, p store.Page) (accounts, cursors []int64, err error) {
	f, _, ok := groupFilter(key)
	if !ok {
		return nil, nil, nil
	}
	list, err := s.store.Notifications(ctx, viewer, f, p)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range list {
		if !n.Filtered {
			accounts, cursors = append(accounts, n.FromAccountID), append(cursors, n.ID)
		}
	}
	return accounts, cursors, nil
}

// DismissNotificationGroup deletes the viewer's notifications of a group.
func (s *Service) DismissNotificationGroup(ctx context.Context, viewer int64, key string) error {
	f, id, ok := groupFilter(key)
	if !ok {
		return ErrNotFound
	}
	return s.store.DismissNotificationGroup(ctx, viewer, f.GroupKey, id)
}
