package social

import (
	"context"
	"slices"
	"unicode/utf8"

	"github.com/rampart-social/rampart/internal/events"
	"github.com/rampart-social/rampart/internal/store"
)

// Limits of a report, as Mastodon's.
const (
	MaxReportComment  = 1000
	MaxReportStatuses = 100
)

// ReportCategories are Mastodon's report categories.
var ReportCategories = []string{"spam", "legal", "violation", "other"}

// ReportParams is what a user says in a report.
type ReportParams struct {
	TargetID  int64
	StatusIDs []int64
	Comment   string
	Forward   bool
	Category  string // "" is other
	RuleIDs   []int64
}

// Report files a report by reporter against an account and some of its
// statuses. Every status must be the target's and one the reporter may see
// (the store's visibility rule): any other is not found, as Mastodon
// answers. Nobody reports themselves. A violation names instance rules;
// this instance has none yet, so any rule id is refused and so is the
// violation category. Forwarding to the target's server is not done yet
// (the instance actor does not sign deliveries), so forwarded stays false.
func (s *Service) Report(ctx context.Context, reporter *store.Account, p ReportParams) (*store.Report, error) {
	if p.Category == "" {
		p.Category = "other"
	}
	switch {
	case p.TargetID == reporter.ID:
		return nil, invalid("account_id", "cannot be yourself")
	case !slices.Contains(ReportCategories, p.Category):
		return nil, invalid("category", "is not one of spam, legal, violation, other")
	case utf8.RuneCountInString(p.Comment) > MaxReportComment:
		return nil, invalid("comment", "is too long (maximum is %d characters)", MaxReportComment)
	case len(p.RuleIDs) > 0 || p.Category == "violation":
		return nil, invalid("rule_ids", "does not reference valid rules")
	case len(p.StatusIDs) > MaxReportStatuses:
		return nil, invalid("status_ids", "are too many (maximum is %d)", MaxReportStatuses)
	}
	if _, err := s.usableAccount(ctx, p.TargetID); err != nil {
		return nil, err
	}
	if deleted, err := s.store.AccountDeleted(ctx, p.TargetID); err != nil {
		return nil, err
	} else if deleted {
		return nil, ErrNotFound
	}
	ids := slices.Compact(slices.Sorted(slices.Values(p.StatusIDs)))
	if len(ids) > 0 {
		visible, err := s.store.VisibleStatusIDs(ctx, reporter.ID, ids)
		if err != nil {
			return nil, err
		}
		if len(visible) != len(ids) {
			return nil, ErrNotFound
		}
		statuses, err := s.store.StatusesByIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if st, ok := statuses[id]; !ok || st.AccountID != p.TargetID {
				return nil, ErrNotFound
			}
		}
	}
	now := s.now().UTC()
	r := &store.Report{ID: s.ids.Next(), AccountID: reporter.ID, TargetID: p.TargetID, StatusIDs: ids, Comment: p.Comment,
		Category: p.Category, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateReport(ctx, r); err != nil {
		return nil, err
	}
	return r, s.notifyStaff(ctx, r)
}

// notifyStaff gives every moderator and admin but the reporter an
// admin.report notification, as Mastodon does.
func (s *Service) notifyStaff(ctx context.Context, r *store.Report) error {
	staff, err := s.store.StaffAccountIDs(ctx)
	if err != nil {
		return err
	}
	staff = slices.DeleteFunc(staff, func(id int64) bool { return id == r.AccountID })
	ids := make([]int64, len(staff))
	for i := range ids {
		ids[i] = s.ids.Next()
	}
	if err := s.store.CreateReportNotifications(ctx, r.ID, r.AccountID, staff, ids, r.CreatedAt); err != nil {
		return err
	}
	for i, to := range staff {
		s.emit(events.Event{Kind: events.NotificationCreated, Notification: ids[i], Account: to})
		s.push(ctx, &store.Notification{ID: ids[i], AccountID: to, FromAccountID: r.AccountID, Type: "admin.report"})
	}
	return nil
}
